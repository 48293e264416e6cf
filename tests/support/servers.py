"""Real servers on loopback for delivery tests: an HTTP receiver and an SMTP server."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers POSTs with the scripted status codes in turn (then 200) and keeps each request."""

    script: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    hold: asyncio.Event | None = None  # when set, requests wait for it before answering
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.requests.append(Received(scope["path"], headers, body))
        if self.hold is not None:
            await self.hold.wait()
        status = self.script.pop(0) if self.script else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": f"answer {status}".encode()})


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[int]:
    """Serve an ASGI app with uvicorn on a free loopback port, in this event loop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started)
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def http_receiver(receiver: Receiver | None = None) -> AsyncIterator[Receiver]:
    receiver = receiver or Receiver()
    try:
        async with serve(receiver) as port:
            receiver.port = port
            yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()


@dataclass
class Mail:
    recipient: list[str]
    message: Message

    @property
    def subject(self) -> str:
        return str(make_header(decode_header(self.message["Subject"])))

    @property
    def text(self) -> str:
        part = self.message.get_payload(decode=True) if not self.message.is_multipart() else b""
        assert isinstance(part, bytes)
        return part.decode(self.message.get_content_charset() or "utf-8")


@dataclass
class Mailbox:
    mails: list[Mail] = field(default_factory=list)
    url: str = ""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(Mail(list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.recipient]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def smtp_server(
    credentials: tuple[str, str] | None = None, mailbox: Mailbox | None = None
) -> Iterator[Mailbox]:
    """An aiosmtpd server on loopback; with credentials, it requires AUTH (offered without TLS).
    A `mailbox` of a subclass answers as it likes (refuses a recipient, hangs up)."""
    mailbox = mailbox or Mailbox()
    port = _free_port()
    options: dict[str, Any] = {}
    if credentials is not None:

        def authenticator(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> Any:
            ok = (data.login.decode(), data.password.decode()) == credentials
            return AuthResult(success=ok)

        options = {"auth_required": True, "auth_require_tls": False, "authenticator": authenticator}
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    mailbox.url = f"smtp://127.0.0.1:{port}"
    try:
        yield mailbox
    finally:
        controller.stop()


async def eventually(condition: Any, *, seconds: float = 10.0) -> None:
    """Poll a condition until it holds or the deadline passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.02)
