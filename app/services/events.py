"""Record what happened: one history row and its outbox row, in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Event, OutboxMessage

# Woken by the worker's LISTEN: a new outbox row is delivered at once, not at
# the next sweep. NOTIFY inside a transaction is sent only when it commits.
OUTBOX_CHANNEL = "carrierdesk_outbox"


async def record_event(
    session: AsyncSession,
    *,
    subject_type: str,
    subject_id: uuid.UUID,
    type: str,
    at: datetime,
    actor: str,
    enterprise_id: uuid.UUID | None,
    data: dict[str, Any] | None = None,
    notify: bool = True,
) -> int:
    """Write the event and its outbox row in one round trip; return the event id."""
    event = (
        insert(Event)
        .values(
            enterprise_id=enterprise_id,
            subject_type=subject_type,
            subject_id=subject_id,
            type=type,
            at=at,
            actor=actor,
            data=data or {},
        )
        .returning(Event.id, Event.enterprise_id, Event.at)
        .cte("new_event")
    )
    stmt: Any = (
        insert(OutboxMessage)
        .from_select(
            ["event_id", "enterprise_id", "created_at"],
            select(event.c.id, event.c.enterprise_id, event.c.at),
        )
        .returning(literal_column("event_id"))
    )
    event_id: int = (await session.execute(stmt)).scalar_one()
    if notify:
        await session.execute(select(literal_column(f"pg_notify('{OUTBOX_CHANNEL}', '')")))
    return event_id
