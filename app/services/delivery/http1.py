"""The webhook sender's HTTP/1.1 client: one kept-alive connection per endpoint, nothing more.

A delivery is one small POST to an endpoint with no other attempt in flight (its events go
in order), and an answer read no further than a cap. httpx and httpcore did that at about a
third of the worker's CPU per delivery (pool bookkeeping, anyio, the h11 state machine,
cookies, redirects, none of which a webhook uses). This client does only what a delivery
needs, over asyncio streams, and keeps what the address guard requires of the connection:

- it goes to the address the guard checked (`Origin.address`), never to a fresh resolution;
- TLS checks the certificate against the URL's host and sends it as SNI (`server_name`);
- connecting and answering are each bounded (`Timeouts`), and the answer is read no further
  than its cap (what is left unread closes the connection, never a long read);
- a kept connection is used again only while its keep-alive holds (`keepalive_expiry`), and
  one the receiver closed while idle is replaced, the request sent once more on a new one
  (delivery is at least once, and the message keeps its `webhook-id`).
"""

from __future__ import annotations

import asyncio
import codecs
import ssl
import time
from collections.abc import Hashable
from dataclasses import dataclass

import httpx

# An answer's status line and headers, and a chunk's size line, must fit in this.
HEAD_LIMIT = 65_536


class ProtocolError(Exception):
    """The receiver's answer is not HTTP/1.1 as it must be read."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a connection goes: the checked address, and (TLS) the name its certificate
    must carry and the SNI names."""

    scheme: str  # "http" or "https"
    address: str  # an IP address checked by the guard, or a host name when none was
    port: int
    server_name: str | None = None


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float  # to open a connection (TLS handshake included)
    answer: float  # from the request's first byte to the answer's last


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes  # at most the cap
    charset: str  # the answer's declared charset (known to Python), else utf-8

    def text(self) -> str:
        return self.body.decode(self.charset, "replace")


class _Connection:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = time.monotonic()

    def usable(self, now: float, expiry: float) -> bool:
        return (
            now - self.idle_since < expiry
            and not self.reader.at_eof()
            and not self.writer.is_closing()
        )

    def close(self) -> None:
        self.writer.close()


class _ClosedWhileIdle(Exception):
    """A kept connection ended before any byte of the answer: the receiver closed it idle."""


class WebhookClient:
    """POSTs over one kept-alive connection per `(key, origin)` (the worker keys by endpoint)."""

    def __init__(
        self, *, keepalive_expiry: float = 30.0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.keepalive_expiry = keepalive_expiry
        # The same trust store as the rest of the application's HTTP (certifi's).
        self.ssl_context = ssl_context or httpx.create_ssl_context()
        self.idle: dict[tuple[Hashable, Origin], _Connection] = {}
        self.swept = time.monotonic()

    async def post(
        self,
        key: Hashable,
        origin: Origin,
        head: bytes,
        body: bytes,
        timeouts: Timeouts,
        cap: int,
    ) -> Answer:
        """Send `head` (request line and headers, ending in the blank line) and `body`; answer
        the status and at most `cap` bytes of the answer's body."""
        now = time.monotonic()
        if now - self.swept > self.keepalive_expiry:
            self._sweep(now)
        kept = self.idle.pop((key, origin), None)
        if kept is not None and not kept.usable(now, self.keepalive_expiry):
            kept.close()
            kept = None
        if kept is not None:
            try:
                return await self._exchange(key, origin, kept, head, body, timeouts, cap)
            except _ClosedWhileIdle:
                pass  # sent again below, on a new connection
        connection = await self._connect(origin, timeouts.connect)
        try:
            return await self._exchange(key, origin, connection, head, body, timeouts, cap)
        except _ClosedWhileIdle as exc:  # a new connection closed at once: no answer
            raise ProtocolError("the receiver closed the connection without answering") from exc

    async def _connect(self, origin: Origin, seconds: float) -> _Connection:
        tls = origin.scheme == "https"
        async with asyncio.timeout(seconds):
            reader, writer = await asyncio.open_connection(
                origin.address,
                origin.port,
                ssl=self.ssl_context if tls else None,
                server_hostname=origin.server_name if tls else None,
                limit=HEAD_LIMIT,
            )
        return _Connection(reader, writer)

    async def _exchange(
        self,
        key: Hashable,
        origin: Origin,
        connection: _Connection,
        head: bytes,
        body: bytes,
        timeouts: Timeouts,
        cap: int,
    ) -> Answer:
        reusable = False
        try:
            async with asyncio.timeout(timeouts.answer):
                try:
                    connection.writer.write(head + body)
                    await connection.writer.drain()
                    first = await _read_head(connection.reader)
                except (ConnectionError, asyncio.IncompleteReadError) as exc:
                    if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                        raise ProtocolError("the answer ended within its headers") from exc
                    raise _ClosedWhileIdle from exc
                answer, reusable = await _read_answer(connection.reader, cap, first)
        except asyncio.IncompleteReadError as exc:
            raise ProtocolError("the answer ended before its length") from exc
        finally:
            if reusable:
                connection.idle_since = time.monotonic()
                replaced = self.idle.pop((key, origin), None)
                if replaced is not None:
                    replaced.close()
                self.idle[(key, origin)] = connection
            else:
                connection.close()
        return answer

    def _sweep(self, now: float) -> None:
        """Close the connections idle for longer than the keep-alive (the receiver has most
        likely closed its end; without this, one per endpoint ever sent to would pile up)."""
        self.swept = now
        for slot, connection in list(self.idle.items()):
            if not connection.usable(now, self.keepalive_expiry):
                del self.idle[slot]
                connection.close()

    async def aclose(self) -> None:
        idle, self.idle = list(self.idle.values()), {}
        for connection in idle:
            connection.close()

    async def __aenter__(self) -> WebhookClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


_Head = tuple[int, bytes, dict[bytes, bytes]]


async def _read_answer(reader: asyncio.StreamReader, cap: int, head: _Head) -> tuple[Answer, bool]:
    """The answer (its `head` read) with its first `cap` body bytes, and whether the connection
    can carry another request (the answer read to its end, and no `Connection: close`)."""
    status, version, headers = head
    while 100 <= status < 200:  # interim answers (100 Continue, 103 Early Hints): skip them
        status, version, headers = await _read_head(reader)
    connection = {t.strip() for t in headers.get(b"connection", b"").lower().split(b",")}
    keep_alive = version == b"HTTP/1.1" and b"close" not in connection
    charset = _charset(headers.get(b"content-type", b""))
    if status in (204, 304):
        return Answer(status, b"", charset), keep_alive
    encoding = headers.get(b"transfer-encoding", b"").lower()
    if encoding:
        if encoding.split(b",")[-1].strip() != b"chunked":
            raise ProtocolError(f"unsupported transfer-encoding {encoding.decode('latin-1')}")
        body, complete = await _read_chunked(reader, cap)
    elif b"content-length" in headers:
        length = _content_length(headers[b"content-length"])
        body = await reader.readexactly(min(length, cap))
        complete = length <= cap
    else:  # the answer ends when the receiver closes the connection
        body, complete = await _read_to_end(reader, cap), False
    return Answer(status, body, charset), keep_alive and complete


async def _read_head(reader: asyncio.StreamReader) -> _Head:
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise ProtocolError(f"answer headers longer than {HEAD_LIMIT} bytes") from exc
    status_line, *lines = raw[:-4].split(b"\r\n")
    version, _, rest = status_line.partition(b" ")
    code = rest[:3]
    if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise ProtocolError(f"not an HTTP/1.1 status line: {status_line[:80]!r}")
    headers: dict[bytes, bytes] = {}
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise ProtocolError(f"malformed header line: {line[:80]!r}")
        name = name.lower()
        value = value.strip()
        if name == b"content-length" and name in headers and headers[name] != value:
            raise ProtocolError("conflicting content-length headers")
        headers[name] = headers[name] + b", " + value if name in headers else value
    return int(code), version, headers


def _content_length(value: bytes) -> int:
    first = value.split(b",")[0].strip()  # repeated equal values were joined
    if not first.isdigit():
        raise ProtocolError(f"invalid content-length {value[:40]!r}")
    return int(first)


async def _read_chunked(reader: asyncio.StreamReader, cap: int) -> tuple[bytes, bool]:
    """The chunked body's first `cap` bytes, and whether it was read to its end."""
    body = bytearray()
    while True:
        try:
            size_line = await reader.readuntil(b"\r\n")
        except asyncio.LimitOverrunError as exc:
            raise ProtocolError("chunk size line too long") from exc
        size_text = size_line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProtocolError(f"invalid chunk size {size_text[:20]!r}") from None
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailer fields: not used
            return bytes(body), True
        if len(body) + size > cap:
            body += await reader.readexactly(cap - len(body))
            return bytes(body), False
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise ProtocolError("chunk not followed by CRLF")


async def _read_to_end(reader: asyncio.StreamReader, cap: int) -> bytes:
    body = bytearray()
    while len(body) < cap:
        chunk = await reader.read(cap - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)


def _charset(content_type: bytes) -> str:
    for parameter in content_type.split(b";")[1:]:
        name, _, value = parameter.partition(b"=")
        if name.strip().lower() == b"charset":
            charset = value.strip().strip(b'"').decode("latin-1")
            try:
                return codecs.lookup(charset).name
            except LookupError:
                break
    return "utf-8"
