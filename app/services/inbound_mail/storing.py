"""Keeping what arrives: one committed row of raw bytes per message, before anyone is told
it was taken. Processing is a separate step (`processing.py`) that claims stored rows."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.models import InboundMessage
from app.services.inbound_mail.mailboxes import find_mailbox
from app.services.inbound_mail.parsing import message_id_of
from app.services.inbound_mail.rules import InboundStatus, Source

# NOTIFY channel that wakes the processing loop when a message is stored.
INBOUND_CHANNEL = "carrierdesk_inbound"


async def is_declared_mailbox(session: AsyncSession, address: str) -> bool:
    found = await find_mailbox(session, address) is not None
    await session.rollback()
    return found


async def store_message(
    session: AsyncSession,
    clock: Clock,
    raw: bytes,
    *,
    mailbox: str,
    source: Source,
    envelope_from: str = "",
    received_at: datetime | None = None,
    before_commit: Callable[[], Awaitable[None]] | None = None,
) -> uuid.UUID | None:
    """Store a message and commit; answer its row's id, or None when a message with the same
    Message-ID was stored before (it is the same message: taking it again loses nothing)."""
    now = clock.now()
    stmt = (
        insert(InboundMessage)
        .values(
            id=uuid.uuid4(),
            message_id=message_id_of(raw),
            source=source.value,
            mailbox=mailbox.strip().lower(),
            envelope_from=envelope_from[:254],
            raw=raw,
            size=len(raw),
            received_at=received_at or now,
            status=InboundStatus.received.value,
            created_at=now,
            updated_at=now,
            version=1,
        )
        .on_conflict_do_nothing(
            index_elements=[InboundMessage.message_id],
            index_where=InboundMessage.message_id.is_not(None),
        )
        .returning(InboundMessage.id)
    )
    stored = (await session.execute(stmt)).scalar_one_or_none()
    await session.execute(text(f"NOTIFY {INBOUND_CHANNEL}"))
    if before_commit is not None:
        await before_commit()
    await session.commit()
    return stored
