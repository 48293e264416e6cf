"""Send pending mail over SMTP (aiosmtplib), retrying with backoff; without SMTP, keep it.

`CARRIERDESK_SMTP_URL` is `smtp://[user[:password]@]host[:port][?starttls=true|false]`
or `smtps://…` (TLS from the first byte). Without it every message is kept
as `not_sent` with the reason, so a developer's machine sends nothing and
loses nothing. Claims lease the row (as webhooks do): a worker dying mid-send
leaves it to be sent again when the lease runs out.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.settings import Settings
from app.models import MailMessage
from app.services.delivery.leases import lease_due
from app.services.delivery.rules import (
    LEASE,
    MAIL_MAX_ATTEMPTS,
    MAIL_RETRY_DELAYS,
    MESSAGE_ID_DOMAIN,
    next_retry,
)

logger = logging.getLogger("carrierdesk.mail")

NO_SMTP = "not sent: CARRIERDESK_SMTP_URL is not set"


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
    recipient: str
    subject: str
    body: str
    language: str
    attempts: int


async def claim_mail(session: AsyncSession, now: datetime, limit: int) -> list[ClaimedMail]:
    rows = (
        await session.execute(
            lease_due(MailMessage, now, limit, LEASE).returning(
                MailMessage.id,
                MailMessage.recipient,
                MailMessage.subject,
                MailMessage.body,
                MailMessage.language,
                MailMessage.attempts,
            )
        )
    ).all()
    await session.commit()
    return [ClaimedMail(**row._asdict()) for row in rows]


def _message(mail: ClaimedMail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Content-Language"] = mail.language
    message["Message-ID"] = make_msgid(idstring=mail.id.hex, domain=MESSAGE_ID_DOMAIN)
    message.set_content(mail.body)
    return message


async def send_due_mail(
    session: AsyncSession, clock: Clock, settings: Settings, *, limit: int = 50
) -> int:
    """Send one batch of due mail over one SMTP connection; return how many were handled."""
    now = clock.now()
    claimed = await claim_mail(session, now, limit)
    if not claimed:
        return 0
    if not settings.smtp_url:
        await session.execute(
            update(MailMessage)
            .where(MailMessage.id.in_([m.id for m in claimed]))
            .values(status="not_sent", last_error=NO_SMTP)
        )
        await session.commit()
        return len(claimed)
    results: dict[uuid.UUID, str | None] = {}
    try:
        target = parse_smtp_url(settings.smtp_url)
        smtp = aiosmtplib.SMTP(**asdict(target), timeout=15)
        async with smtp:
            for mail in claimed:
                try:
                    await smtp.send_message(_message(mail, settings.smtp_from))
                    results[mail.id] = None
                except aiosmtplib.SMTPRecipientsRefused as exc:
                    results[mail.id] = f"refused: {exc}"[:500]
    except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
        reason = f"{type(exc).__name__}: {exc}"[:500]
        for mail in claimed:
            results.setdefault(mail.id, reason)
    await _record(session, claimed, results, clock.now())
    return len(claimed)


async def _record(
    session: AsyncSession,
    claimed: list[ClaimedMail],
    results: dict[uuid.UUID, str | None],
    now: datetime,
) -> None:
    sent = [m.id for m in claimed if results.get(m.id) is None]
    if sent:
        await session.execute(
            update(MailMessage)
            .where(MailMessage.id.in_(sent))
            .values(status="sent", sent_at=now, last_error=None)
        )
    for mail in claimed:
        error = results.get(mail.id)
        if error is None:
            continue
        retry_at = next_retry(mail.attempts, now, MAIL_RETRY_DELAYS)
        if retry_at is None or mail.attempts >= MAIL_MAX_ATTEMPTS:
            values: dict[str, object] = {"status": "failed", "last_error": error}
        else:
            values = {"next_attempt_at": retry_at, "last_error": error}
        await session.execute(update(MailMessage).where(MailMessage.id == mail.id).values(values))
    await session.commit()
    if len(sent) < len(claimed):
        logger.warning("mail: %d of %d not sent", len(claimed) - len(sent), len(claimed))
