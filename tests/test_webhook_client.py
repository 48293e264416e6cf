"""The webhook sender's HTTP/1.1 client against real servers on loopback: kept connections,
receivers that close them, answers framed every way HTTP/1.1 allows, and TLS that checks
the endpoint's name while connecting to the checked address."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.services.delivery.http1 import Origin, ProtocolError, Timeouts, WebhookClient

PATIENCE = Timeouts(connect=5.0, answer=5.0)
CAP = 64

Answering = Callable[[int], bytes]  # the n-th request on a connection -> the bytes answered


@dataclass
class RawReceiver:
    """Reads each request (head and content-length body) and writes `answer(n)` for it; with
    `close_after`, closes the connection after that many answers; with `drop_after`, reads one
    more request after that many answers and closes without answering it."""

    answer: Answering
    close_after: int | None = None
    drop_after: int | None = None
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        answered = 0
        try:
            while self.close_after is None or answered < self.close_after:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                self.requests.append(head + await reader.readexactly(length))
                if answered == self.drop_after:
                    break
                writer.write(self.answer(answered))
                await writer.drain()
                answered += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def raw_receiver(
    answer: Answering,
    *,
    close_after: int | None = None,
    drop_after: int | None = None,
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[RawReceiver]:
    receiver = RawReceiver(answer, close_after, drop_after)
    if tls is not None:
        tls.sni_callback = lambda sock, name, ctx: receiver.server_names.append(name)  # type: ignore[assignment, func-returns-value]
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0, ssl=tls)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()


def fixed(answer: bytes) -> Answering:
    return lambda n: answer


def head(target: str = "/hook", body: bytes = b"{}") -> bytes:
    return (
        f"POST {target} HTTP/1.1\r\nhost: hooks.example\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode()


async def post(
    client: WebhookClient, receiver: RawReceiver, body: bytes = b"{}", *, key: str = "endpoint"
) -> tuple[int, bytes]:
    origin = Origin("http", "127.0.0.1", receiver.port)
    answer = await client.post(key, origin, head(body=body), body, PATIENCE, CAP)
    return answer.status, answer.body


OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


async def test_an_endpoints_deliveries_share_one_kept_connection() -> None:
    async with raw_receiver(fixed(OK)) as receiver, WebhookClient() as client:
        for n in range(3):
            assert await post(client, receiver, b'{"n":%d}' % n) == (200, b"ok")
        assert receiver.connections == 1
        assert [r.rsplit(b"\r\n\r\n", 1)[1] for r in receiver.requests] == [
            b'{"n":0}',
            b'{"n":1}',
            b'{"n":2}',
        ]
        # Another endpoint on the same receiver has its own connection.
        assert await post(client, receiver, key="another endpoint") == (200, b"ok")
        assert receiver.connections == 2


async def test_a_receiver_closing_its_kept_connection_still_gets_the_next_delivery() -> None:
    async with raw_receiver(fixed(OK), close_after=1) as receiver, WebhookClient() as client:
        assert await post(client, receiver, b"1") == (200, b"ok")
        await asyncio.sleep(0)  # the receiver's close may or may not have arrived: either way
        assert await post(client, receiver, b"2") == (200, b"ok")
        assert await post(client, receiver, b"3") == (200, b"ok")
    assert [r.rsplit(b"\r\n\r\n", 1)[1] for r in receiver.requests] == [b"1", b"2", b"3"]
    assert receiver.connections == 3


async def test_a_request_dropped_on_a_kept_connection_is_sent_again_on_a_new_one() -> None:
    # Each connection answers one request, then takes the next and closes unanswered (as a
    # receiver timing out its idle connections at that very moment would).
    async with raw_receiver(fixed(OK), drop_after=1) as receiver, WebhookClient() as client:
        for body in (b"1", b"2", b"3"):
            assert await post(client, receiver, body) == (200, b"ok")
    # At least once: the dropped request went again, the same bytes, on a new connection.
    bodies = [r.rsplit(b"\r\n\r\n", 1)[1] for r in receiver.requests]
    assert bodies == [b"1", b"2", b"2", b"3", b"3"]
    assert receiver.requests[1] == receiver.requests[2]
    assert receiver.connections == 3


async def test_connection_close_and_http_1_0_answers_are_not_kept() -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\ncontent-length: 2\r\n\r\nok"
    old = b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok"
    for answer in (closing, old):
        async with raw_receiver(fixed(answer)) as receiver, WebhookClient() as client:
            assert await post(client, receiver) == (200, b"ok")
            assert await post(client, receiver) == (200, b"ok")
            assert receiver.connections == 2


async def test_answers_are_read_however_framed_and_never_past_the_cap() -> None:
    chunked = (
        b"HTTP/1.1 202 Accepted\r\ntransfer-encoding: chunked\r\n\r\n"
        b"5;note=x\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: 1\r\n\r\n"
    )
    interim = b"HTTP/1.1 100 Continue\r\n\r\n" + OK
    empty = b"HTTP/1.1 204 No Content\r\n\r\n"
    cases = [(chunked, (202, b"hello world")), (interim, (200, b"ok")), (empty, (204, b""))]
    for answer, expected in cases:
        async with raw_receiver(fixed(answer)) as receiver, WebhookClient() as client:
            assert await post(client, receiver) == expected
            assert await post(client, receiver) == expected
            assert receiver.connections == 1, answer  # read to its end: the connection is kept

    long = b"x" * (CAP * 4)
    too_long = [
        b"HTTP/1.1 500 Oops\r\ncontent-length: %d\r\n\r\n" % len(long) + long,
        b"HTTP/1.1 500 Oops\r\ntransfer-encoding: chunked\r\n\r\n%x\r\n" % len(long) + long,
    ]
    for answer in too_long:
        async with raw_receiver(fixed(answer)) as receiver, WebhookClient() as client:
            assert await post(client, receiver) == (500, b"x" * CAP)
            assert await post(client, receiver) == (500, b"x" * CAP)
            assert receiver.connections == 2  # the rest unread: the connection is not reused

    # No length: the answer ends with the connection.
    async with raw_receiver(fixed(b"HTTP/1.1 200 OK\r\n\r\nuntil the end"), close_after=1) as r:
        async with WebhookClient() as client:
            assert await post(client, r) == (200, b"until the end")


async def test_a_malformed_answer_is_a_protocol_error_naming_what_is_wrong() -> None:
    answers = {
        b"SMTP/1.0 220 hello\r\n\r\n": "not an HTTP/1.1 status line",
        b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n": "invalid content-length",
        b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n": "conflicting",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n": "unsupported transfer-encoding",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n": "invalid chunk size",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n": "malformed header line",
    }
    for answer, problem in answers.items():
        async with raw_receiver(fixed(answer)) as receiver, WebhookClient() as client:
            with pytest.raises(ProtocolError, match=problem):
                await post(client, receiver)
    short = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort"
    async with raw_receiver(fixed(short), close_after=1) as receiver, WebhookClient() as client:
        with pytest.raises(ProtocolError, match="ended before its length"):
            await post(client, receiver)


async def test_a_receiver_that_never_answers_times_out() -> None:
    release, finished = asyncio.Event(), asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()  # reads nothing, answers nothing, until the test is over
        writer.close()
        finished.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    origin = Origin("http", "127.0.0.1", server.sockets[0].getsockname()[1])
    try:
        async with WebhookClient() as client:
            with pytest.raises(TimeoutError):
                await client.post("e", origin, head(), b"{}", Timeouts(5.0, 0.2), CAP)
    finally:
        release.set()
        await finished.wait()
        server.close()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A test CA and a certificate it signed for `hooks.example` (openssl, as an operator
    would make one)."""
    where = tmp_path_factory.mktemp("tls")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*argv: str) -> None:
        subprocess.run(["openssl", *argv], cwd=where, check=True, capture_output=True)

    ca = ["-subj", "/CN=Carrier Desk test CA", "-days", "2"]
    openssl("req", "-x509", *key, *ca, "-keyout", "ca.key", "-out", "ca.pem")
    openssl("req", *key, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=hooks.example")
    (where / "san.ext").write_text("subjectAltName=DNS:hooks.example\n")
    openssl(
        "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "san.ext",
    )  # fmt: skip
    return where


async def test_tls_checks_the_endpoints_name_on_a_connection_to_the_checked_address(
    certificates: Path,
) -> None:
    serving = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    serving.load_cert_chain(certificates / "leaf.pem", certificates / "leaf.key")
    trusting = ssl.create_default_context(cafile=str(certificates / "ca.pem"))
    async with raw_receiver(fixed(OK), tls=serving) as receiver:
        async with WebhookClient(ssl_context=trusting) as client:
            # The name the URL gave, while the connection goes to the address checked for it.
            named = Origin("https", "127.0.0.1", receiver.port, "hooks.example")
            answer = await client.post("e", named, head(), b"{}", PATIENCE, CAP)
            assert (answer.status, answer.body) == (200, b"ok")
            assert receiver.server_names == ["hooks.example"]
            # A certificate for another name is refused, whatever address it answers on.
            other = Origin("https", "127.0.0.1", receiver.port, "other.example")
            with pytest.raises(ssl.SSLCertVerificationError, match=r"other\.example"):
                await client.post("f", other, head(), b"{}", PATIENCE, CAP)
        # Nor is one from an authority the sender does not trust.
        async with WebhookClient() as untrusting:
            with pytest.raises(ssl.SSLCertVerificationError):
                await untrusting.post("e", named, head(), b"{}", PATIENCE, CAP)
