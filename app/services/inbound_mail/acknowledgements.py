"""The one answer a person's mail gets: an acknowledgement naming the new number, in the
sender's language. Never to automatic mail, never to an unknown sender (no backscatter), and
at most a few per sender an hour (two systems must never ping-pong)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.tenancy import visible_to
from app.models import Event, InboundMessage, MailMessage
from app.services.delivery.fanout import MAIL_CHANNEL
from app.services.delivery.mail_templates import render
from app.services.inbound_mail.matching import MAIL_CALLER, KnownSender
from app.services.inbound_mail.parsing import ParsedMail
from app.services.inbound_mail.rules import may_acknowledge


async def acknowledged_last_hour(session: AsyncSession, clock: Clock, sender: str) -> int:
    stmt = visible_to(
        select(func.count()).select_from(InboundMessage),
        MAIL_CALLER,
        InboundMessage.enterprise_id,
    ).where(
        InboundMessage.sender == sender,
        InboundMessage.acknowledged_at > clock.now() - timedelta(hours=1),
    )
    return int(await session.scalar(stmt) or 0)


async def _first_event(session: AsyncSession, subject_id: uuid.UUID) -> int | None:
    # The acknowledgement belongs to the creation's event: a reply to it names the ticket.
    stmt = (
        visible_to(select(Event.id), MAIL_CALLER, Event.enterprise_id)
        .where(Event.subject_id == subject_id)
        .order_by(Event.id)
        .limit(1)
    )
    event_id: int | None = await session.scalar(stmt)
    return event_id


async def acknowledge(
    session: AsyncSession,
    clock: Clock,
    row: InboundMessage,
    parsed: ParsedMail,
    sender: KnownSender,
    template: str,
    context: dict[str, Any],
) -> bool:
    """Queue the acknowledgement of a processed message in the open transaction, if it is
    owed one; answer whether it was queued."""
    if parsed.automatic is not None or parsed.sender is None or row.result_id is None:
        return False
    if not sender.known:
        return False
    if not may_acknowledge(await acknowledged_last_hour(session, clock, parsed.sender)):
        return False
    now = clock.now()
    subject, body = render(
        template,
        sender.language,
        {"name": sender.name or parsed.sender, "subject": parsed.subject, **context},
    )
    await session.execute(
        insert(MailMessage).values(
            id=uuid.uuid4(),
            enterprise_id=row.enterprise_id,
            event_id=await _first_event(session, row.result_id),
            recipient=parsed.sender,
            language=sender.language,
            subject=subject[:300],
            body=body,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    await session.execute(text(f"NOTIFY {MAIL_CHANNEL}"))
    row.acknowledged_at = now
    return True
