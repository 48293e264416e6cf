"""Mail in for tests: the worker's SMTP listener served in this event loop, `smtplib` as the
sending server, and messages built the way mail programs build them."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import make_msgid
from typing import Any

from aiosmtpd.smtp import SMTP
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import Clock
from app.core.settings import Settings
from app.models import InboundMessage
from app.services.inbound_mail.processing import process_next
from app.services.inbound_mail.rules import MAX_MESSAGE_BYTES
from app.workers.context import WorkerContext
from app.workers.inbound_mail import InboundHandler


def message(
    sender: str,
    to: str,
    subject: str,
    text: str = "",
    *,
    html: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = make_msgid(domain="customer.example")
    for name, value in (headers or {}).items():
        mail[name] = value
    if html is not None:
        mail.set_content(html, subtype="html")
    else:
        mail.set_content(text)
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return mail


@asynccontextmanager
async def listener(
    sessionmaker: async_sessionmaker[AsyncSession], clock: Clock
) -> AsyncIterator[int]:
    """The worker's SMTP listener (its handler, its limits) on a free loopback port."""
    settings = Settings(env="test", database_url="postgresql+asyncpg://unused/unused")
    handler = InboundHandler(WorkerContext(settings, "unused", sessionmaker, clock))
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(handler, data_size_limit=MAX_MESSAGE_BYTES, decode_data=False),
        "127.0.0.1",
        0,
    )
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


def send_blocking(port: int, raw: bytes, mail_from: str, rcpt: list[str]) -> dict[str, Any]:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
        return smtp.sendmail(mail_from, rcpt, raw)


async def send(port: int, mail: EmailMessage | bytes, mail_from: str | None = None) -> None:
    """Relay a message as the MTA in front would (smtplib, in a thread: the listener runs in
    this loop)."""
    if isinstance(mail, EmailMessage):
        raw = mail.as_bytes(policy=SMTP_POLICY)  # CRLF line ends, as on the wire
        rcpt = [str(mail["To"])]
        sender = mail_from if mail_from is not None else str(mail["From"]).split("<")[-1].strip(">")
    else:
        raise TypeError("pass an EmailMessage")
    await asyncio.to_thread(send_blocking, port, raw, sender, rcpt)


async def process_all(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
    async with sessionmaker() as session:
        while await process_next(session, clock):
            pass


async def inbound_rows(sessionmaker: async_sessionmaker[AsyncSession]) -> list[InboundMessage]:
    async with sessionmaker() as session:
        rows = await session.scalars(select(InboundMessage).order_by(InboundMessage.created_at))
        return list(rows)
