"""The event history of one resource, as the caller may see it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.caller import Caller
from app.models import Event
from app.schemas.history import EventRead
from app.services.scoping import visible_to


async def events_of(
    session: AsyncSession, caller: Caller, subject_type: str, subject_id: uuid.UUID
) -> list[EventRead]:
    """Oldest first; a customer sees only the events written for its enterprises."""
    stmt = (
        visible_to(select(Event), caller, Event.enterprise_id)  # type: ignore[arg-type]
        .where(Event.subject_type == subject_type, Event.subject_id == subject_id)
        .order_by(Event.id)
    )
    rows = (await session.execute(stmt)).scalars().all()
    return [EventRead.model_validate(e) for e in rows]
