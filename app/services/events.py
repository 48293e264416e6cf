"""Record what happened: one history row and its outbox row, in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Event, OutboxMessage

# Woken by the worker's LISTEN: a new outbox row is delivered at once, not at
# the next sweep. NOTIFY inside a transaction is sent only when it commits.
OUTBOX_CHANNEL = "carrierdesk_outbox"


# Built once: a statement object memoises its cache key, so executing the
# same object with new parameters skips SQLAlchemy's per-call key generation.
# Table-level (Core) inserts: an ORM-entity insert executed with a parameter
# dict would be taken for an ORM bulk insert.
_events = cast(Table, Event.__table__)
_new_event = (
    insert(_events)
    .values(
        enterprise_id=bindparam("enterprise_id"),
        subject_type=bindparam("subject_type"),
        subject_id=bindparam("subject_id"),
        type=bindparam("type"),
        at=bindparam("at"),
        actor=bindparam("actor"),
        data=bindparam("data", type_=_events.c.data.type),
    )
    .returning(_events.c.id, _events.c.enterprise_id, _events.c.at)
    .cte("new_event")
)
_RECORD: Any = (
    insert(cast(Table, OutboxMessage.__table__))
    .from_select(
        ["event_id", "enterprise_id", "created_at"],
        select(_new_event.c.id, _new_event.c.enterprise_id, _new_event.c.at),
    )
    .returning(literal_column("event_id"))
)
_NOTIFY_OUTBOX = text(f"SELECT pg_notify('{OUTBOX_CHANNEL}', '')")


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
    params = {
        "enterprise_id": enterprise_id,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "type": type,
        "at": at,
        "actor": actor,
        "data": data or {},
    }
    event_id: int = (await session.execute(_RECORD, params)).scalar_one()
    if notify:
        await session.execute(_NOTIFY_OUTBOX)
    return event_id
