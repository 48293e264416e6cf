"""Send pending mail over SMTP (aiosmtplib), retrying with backoff; without SMTP, keep it.

`CARRIERDESK_SMTP_URL` is `smtp://[user[:password]@]host[:port][?starttls=true|false]`
or `smtps://…` (TLS from the first byte). Without it every message is kept
as `not_sent` with the reason, so a developer's machine sends nothing and
loses nothing. Claims lease the row (as webhooks do): a worker dying mid-send
leaves it to be sent again when the lease runs out. Outcomes are recorded
together, in one short transaction every `RECORD_EVERY` seconds, before a third
of the lease has gone by, and at the end of the batch, with a fresh lease for the
rest of the batch, so a slow server never lets a lease lapse under a message still
to be sent (a worker dying meanwhile sends what it had not recorded again).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.settings import Settings
from app.models import MailMessage
from app.models.base import NO_TENANT
from app.services.delivery.leases import (
    LeaseKey,
    lease_due,
    lease_plan,
    renew_leases,
    still_held,
)
from app.services.delivery.mail_message import envelope_sender, message_bytes
from app.services.delivery.rules import (
    LEASE,
    MAIL_MAX_ATTEMPTS,
    MAIL_RETRY_DELAYS,
    MAIL_SEND_SECONDS,
    next_retry,
    smtp_final,
    with_one_time_link,
)

logger = logging.getLogger("carrierdesk.mail")

NO_SMTP = "not sent: CARRIERDESK_SMTP_URL is not set"

# How long outcomes may wait to be recorded while a batch is being sent (a worker dying
# meanwhile sends those messages again: at least once).
RECORD_EVERY = 1.0


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """Where and how to connect: the fields are `aiosmtplib.SMTP`'s keyword arguments."""

    hostname: str
    port: int
    use_tls: bool
    start_tls: bool | None
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("CARRIERDESK_SMTP_URL must be smtp://host[:port] or smtps://host[:port]")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", [""])[0].lower()
    return SmtpTarget(
        hostname=parts.hostname,
        port=parts.port or (465 if parts.scheme == "smtps" else 25),
        use_tls=parts.scheme == "smtps",
        # Unset: upgrade when the server offers STARTTLS; true: insist; false: never.
        start_tls=None if starttls == "" else starttls in ("1", "true", "yes"),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


@dataclass(frozen=True, slots=True)
class ClaimedMail:
    id: uuid.UUID
    enterprise_id: uuid.UUID | None
    recipient: str
    subject: str
    body: str
    one_time_link: str | None
    language: str
    attempts: int

    @property
    def lease_key(self) -> LeaseKey:
        return (self.enterprise_id or NO_TENANT, self.id, self.attempts)


_M = MailMessage.__table__.c

_CLAIM = lease_plan(
    MailMessage,
    (
        _M.id,
        _M.enterprise_id,
        _M.recipient,
        _M.subject,
        _M.body,
        _M.one_time_link,
        _M.language,
        _M.attempts,
    ),
)


async def claim_mail(session: AsyncSession, now: datetime, limit: int) -> list[ClaimedMail]:
    rows = await lease_due(session, _CLAIM, now, limit, LEASE)
    await session.commit()
    return [ClaimedMail(**row._asdict()) for row in rows]


def _outgoing(mail: ClaimedMail, sender: str, now: datetime) -> Outgoing:
    # Non-ASCII in an address needs SMTPUTF8 (the server's), and raw UTF-8 headers with it;
    # in a display name it is an encoded word.
    envelope = envelope_sender(sender)
    utf8 = not (mail.recipient.isascii() and envelope.isascii())
    data = message_bytes(
        mail_id=mail.id,
        sender=sender,
        recipient=mail.recipient,
        subject=mail.subject,
        language=mail.language,
        text=with_one_time_link(mail.body, mail.one_time_link),
        now=now,
        utf8=utf8,
    )
    return Outgoing(envelope, mail.recipient, data, utf8)


async def send_due_mail(
    session: AsyncSession, clock: Clock, settings: Settings, *, limit: int = 50
) -> int:
    """Send one batch of due mail, each message on its own (see `SmtpConnection`); return
    how many were handled."""
    now = clock.now()
    claimed = await claim_mail(session, now, limit)
    if not claimed:
        return 0
    if not settings.smtp_url:
        await session.execute(
            update(MailMessage)
            .where(*still_held(MailMessage, [m.lease_key for m in claimed]))
            .values(status="not_sent", last_error=NO_SMTP, one_time_link=None)
        )
        await session.commit()
        return len(claimed)
    try:
        target = parse_smtp_url(settings.smtp_url)
    except ValueError as exc:
        refused = SmtpFailure(str(exc), final=False)
        await _record_many(session, [(mail, refused) for mail in claimed], clock.now(), [])
        return len(claimed)
    connection = SmtpConnection(target)
    done: list[tuple[ClaimedMail, SmtpFailure | None]] = []
    recorded, leased_at = time.monotonic(), now
    try:
        for index, mail in enumerate(claimed):
            failure = await connection.send(_outgoing(mail, settings.smtp_from, clock.now()))
            if failure is not None and failure.unreachable:
                # No server to talk to: every message waits for its retry, none is tried
                # against a server that is down (each try could take the whole deadline).
                done += [(waiting, failure) for waiting in claimed[index:]]
                break
            done.append((mail, failure))
            # Recorded every second, and before a third of the lease has gone by.
            if time.monotonic() - recorded >= RECORD_EVERY or clock.now() - leased_at >= LEASE / 3:
                leased_at = clock.now()
                await _record_many(session, done, leased_at, claimed[index + 1 :])
                done, recorded = [], time.monotonic()
    finally:
        await connection.close()
    await _record_many(session, done, clock.now(), [])
    return len(claimed)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message as SMTP sends it: its envelope and its bytes."""

    sender: str
    recipient: str
    data: bytes
    utf8: bool  # an address is not ASCII: the server must speak SMTPUTF8


@dataclass(frozen=True, slots=True)
class SmtpFailure:
    reason: str
    final: bool  # the server refused for good (5xx): no retry
    unreachable: bool = False  # no connection could be made: nothing about the message


class SmtpConnection:
    """One SMTP connection, opened when first needed and again after any failure, so one
    message's trouble (a refused recipient, a refused DATA, a dropped line) is its alone."""

    def __init__(self, target: SmtpTarget) -> None:
        self.target = target
        self.smtp: aiosmtplib.SMTP | None = None

    async def send(self, message: Outgoing) -> SmtpFailure | None:
        if self.smtp is None:
            smtp = aiosmtplib.SMTP(**asdict(self.target), timeout=15)
            try:
                async with asyncio.timeout(MAIL_SEND_SECONDS):
                    await smtp.connect()
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                reason = f"{type(exc).__name__}: {exc}"[:500]
                return SmtpFailure(reason, final=False, unreachable=True)
            self.smtp = smtp
        try:
            async with asyncio.timeout(MAIL_SEND_SECONDS):
                await self._send(self.smtp, message)
            return None
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            failure = SmtpFailure(f"refused: {exc}"[:500], final=all(smtp_final(c) for c in codes))
        except aiosmtplib.SMTPDataError as exc:
            failure = SmtpFailure(f"{type(exc).__name__}: {exc}"[:500], final=smtp_final(exc.code))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # The connection, our sign-in or our sender address: nothing about this message
            # is refused for good, so it is tried again like any temporary failure.
            failure = SmtpFailure(f"{type(exc).__name__}: {exc}"[:500], final=False)
        await self.close()  # whatever state the dialogue is in, the next message starts afresh
        return failure

    @staticmethod
    async def _send(smtp: aiosmtplib.SMTP, message: Outgoing) -> None:
        options = []
        if message.utf8:
            if not smtp.supports_extension("smtputf8"):
                raise aiosmtplib.SMTPNotSupported("a non-ASCII address, and no SMTPUTF8")
            options.append("SMTPUTF8")
        await smtp.sendmail(message.sender, [message.recipient], message.data, mail_options=options)

    async def close(self) -> None:
        smtp, self.smtp = self.smtp, None
        if smtp is None or not smtp.is_connected:
            return
        try:
            async with asyncio.timeout(5):
                await smtp.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            smtp.close()


async def _record_many(
    session: AsyncSession,
    done: list[tuple[ClaimedMail, SmtpFailure | None]],
    now: datetime,
    unsent: list[ClaimedMail],
) -> None:
    """Messages' outcomes (those sent in one statement), and a fresh lease for those still
    waiting in this batch, so a slow batch never outlasts its lease and has a message sent
    twice by another worker; one transaction."""
    sent = [mail for mail, failure in done if failure is None]
    if sent:
        await session.execute(
            update(MailMessage)
            .where(*still_held(MailMessage, [m.lease_key for m in sent]))
            .values(status="sent", sent_at=now, last_error=None, one_time_link=None)
        )
    for mail, failure in done:
        if failure is None:
            continue
        ours = update(MailMessage).where(*still_held(MailMessage, [mail.lease_key]))
        logger.warning("mail %s not sent: %s", mail.id, failure.reason)
        retry_at = next_retry(mail.attempts, now, MAIL_RETRY_DELAYS)
        if failure.final or retry_at is None or mail.attempts >= MAIL_MAX_ATTEMPTS:
            await session.execute(
                ours.values(status="failed", last_error=failure.reason, one_time_link=None)
            )
        else:
            await session.execute(ours.values(next_attempt_at=retry_at, last_error=failure.reason))
    renewal = renew_leases(MailMessage, [m.lease_key for m in unsent], now + LEASE)
    if renewal is not None:
        await session.execute(renewal)
    await session.commit()
