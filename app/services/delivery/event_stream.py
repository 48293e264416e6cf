"""Live events for a frontend or a NOC wall: the caller's tenant's events, in id order.

The stream polls the `events` table after the last id it sent (a primary-key
range scan), so a client resuming with `Last-Event-ID` gets exactly what it
missed, and nothing of another tenant. A customer gets the customer's view of
each event; an event for staff only is passed over (the stream moves past it).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from app.core.errors import field_error
from app.core.events import visible_data
from app.core.tenancy import Caller, visible_to
from app.models import Event
from app.services.delivery.rules import event_id_problem

# Events of every tenant carry enterprise_id; a row without one is the provider's only.
_TENANT = cast(InstrumentedAttribute[uuid.UUID], Event.enterprise_id)

POLL_SECONDS = 1.0

BATCH = 200


def parse_last_event_id(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    problem = event_id_problem(value.strip())
    if problem is not None:
        raise field_error("Last-Event-ID", problem)
    return int(value.strip())


async def starting_point(session: AsyncSession, caller: Caller, after: int | None) -> int:
    """Resume after `after`; without it, start with what happens from now on."""
    if after is not None:
        return after
    latest = (
        await session.execute(visible_to(select(func.max(Event.id)), caller, _TENANT))
    ).scalar_one_or_none()
    await session.rollback()  # release the connection between polls
    return int(latest or 0)


async def _batch(session: AsyncSession, caller: Caller, after: int) -> list[Any]:
    rows = (
        await session.execute(
            visible_to(
                select(
                    Event.id,
                    Event.type,
                    Event.at,
                    Event.actor,
                    Event.enterprise_id,
                    Event.subject_type,
                    Event.subject_id,
                    Event.data,
                ),
                caller,
                _TENANT,
            )
            .where(Event.id > after)
            .order_by(Event.id)
            .limit(BATCH)
        )
    ).all()
    await session.rollback()
    return list(rows)


async def stream_events(
    sessionmaker: async_sessionmaker[AsyncSession],
    caller: Caller,
    after: int,
    disconnected: Callable[[], Any],
    max_seconds: float,
    poll_seconds: float = POLL_SECONDS,
) -> AsyncIterator[dict[str, Any]]:
    """Server-sent events `{id, event, data}` from `after` on, until the client goes away
    or `max_seconds` pass (the client reconnects with `Last-Event-ID`, losing nothing)."""
    cursor = after
    loop = asyncio.get_running_loop()
    ends = loop.time() + max_seconds
    while loop.time() < ends and not await disconnected():
        async with sessionmaker() as session:
            rows = await _batch(session, caller, cursor)
        for row in rows:
            cursor = row.id
            data = visible_data(caller, row.type, row.data)
            if data is None:
                continue
            yield {
                "id": str(row.id),
                "event": row.type,
                "data": json.dumps(
                    {
                        "id": row.id,
                        "type": row.type,
                        "at": row.at.isoformat(),
                        "actor": row.actor,
                        "enterprise_id": str(row.enterprise_id) if row.enterprise_id else None,
                        "subject_type": row.subject_type,
                        "subject_id": str(row.subject_id),
                        "data": data,
                    },
                    separators=(",", ":"),
                ),
            }
        if len(rows) < BATCH:
            await asyncio.sleep(poll_seconds)
