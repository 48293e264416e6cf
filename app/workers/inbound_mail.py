"""Mail in, on the worker: the SMTP listener (`CARRIERDESK_INBOUND_SMTP`), the IMAP poller
(`CARRIERDESK_IMAP_URL`) and the loop that processes what they stored.

The listener answers 250 only after the message is committed; whatever happens before that,
the sending server still holds the message and retries. Processing is a separate step over
stored rows, so a message stored just before a crash is processed after the restart."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from app.services.inbound_mail.imap import poll_imap_forever
from app.services.inbound_mail.processing import process_next
from app.services.inbound_mail.rules import MAX_MESSAGE_BYTES, Source
from app.services.inbound_mail.storing import INBOUND_CHANNEL, is_declared_mailbox, store_message
from app.workers.context import WorkerContext

logger = logging.getLogger("carrierdesk.inbound")

# Processing also looks every so often without a NOTIFY (one lost, another worker's rows).
PROCESS_SAFETY_SECONDS = 30.0


async def _idle_forever() -> None:
    # A loop with nothing configured: the supervisor must not restart it in a hurry.
    await asyncio.Event().wait()


class InboundHandler:
    """aiosmtpd's handler: refuse what is not ours at RCPT, store and commit at DATA."""

    def __init__(self, ctx: WorkerContext) -> None:
        self.ctx = ctx
        stage, _, marker = (ctx.settings.inbound_test_pause or "").partition(":")
        self.pause_at, self.marker = stage, marker

    async def _pause(self, stage: str) -> None:
        if self.pause_at == stage and self.marker:
            await asyncio.to_thread(Path(self.marker).write_text, stage)
            await _idle_forever()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        try:
            async with self.ctx.sessionmaker() as db:
                declared = await is_declared_mailbox(db, address)
        except Exception:
            logger.exception("inbound: mailbox lookup failed")
            return "451 4.3.0 Temporary failure, try again later"
        if not declared:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if len(raw) > MAX_MESSAGE_BYTES:
            return "552 5.3.4 Message too big"
        try:
            async with self.ctx.sessionmaker() as db:
                await store_message(
                    db,
                    self.ctx.clock,
                    raw,
                    # One message to several of our mailboxes is stored (and processed) once.
                    mailbox=envelope.rcpt_tos[0],
                    source=Source.smtp,
                    envelope_from=envelope.mail_from or "",
                    before_commit=lambda: self._pause("before_commit"),
                )
        except Exception:
            logger.exception("inbound: storing a message failed")
            return "451 4.3.0 Temporary failure, try again later"
        await self._pause("after_commit")
        return "250 OK: stored"


def parse_listen_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError("CARRIERDESK_INBOUND_SMTP must be host:port")
    return host.strip("[]"), int(port)


async def smtp_listener_loop(ctx: WorkerContext) -> None:
    if not ctx.settings.inbound_smtp:
        await _idle_forever()
        return
    host, port = parse_listen_address(ctx.settings.inbound_smtp)
    handler = InboundHandler(ctx)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler,
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname="carrierdesk",
        ),
        host,
        port,
    )
    logger.info("inbound SMTP listening", extra={"host": host, "port": port})
    async with server:
        await server.serve_forever()


async def process_stored_loop(ctx: WorkerContext) -> None:
    """Process stored messages as they come; wake on NOTIFY, else look now and then."""
    # While a test holds the listener at a pause, processing waits too: what is stored at the
    # kill is then left for the restart to process.
    if not (ctx.settings.inbound_smtp or ctx.settings.imap_url) or ctx.settings.inbound_test_pause:
        await _idle_forever()
        return
    wakeup = ctx.wakeup(INBOUND_CHANNEL)
    while True:
        wakeup.clear()
        while True:
            async with ctx.sessionmaker() as session:
                if not await process_next(session, ctx.clock):
                    break
        try:
            await asyncio.wait_for(wakeup.wait(), PROCESS_SAFETY_SECONDS)
        except TimeoutError:
            pass


async def imap_loop(ctx: WorkerContext) -> None:
    if not ctx.settings.imap_url:
        await _idle_forever()
        return
    await poll_imap_forever(ctx.settings, ctx.sessionmaker, ctx.clock)
