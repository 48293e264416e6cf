"""Live events for a frontend or a NOC wall: the caller's tenant's events, in id order.

The stream reads the `events` table after the last id it sent (a primary-key
range scan), up to the process's event watermark (`stream_hub`): an event whose
transaction commits after a later-numbered one's is still sent, and in id
order. A client resuming with `Last-Event-ID` gets exactly what it missed, and
nothing of another tenant. A customer gets the customer's view of each event;
an event for staff only is passed over (the stream moves past it).

Between reads a stream holds no database connection. Every
`stream_recheck_seconds` it asks again whether its credentials still hold: a
revoked client, an ended session or a removed user ends the stream.
"""

from __future__ import annotations

import asyncio
import json
import uuid
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from app.core.deps import CallerNow
from app.core.errors import field_error
from app.core.events import visible_data
from app.core.tenancy import Caller, visible_to
from app.models import Event
from app.services.delivery.rules import event_id_problem
from app.services.delivery.stream_hub import StreamHub, wait_for_move

# Events of every tenant carry enterprise_id; a row without one is the provider's only.
_TENANT = cast(InstrumentedAttribute[uuid.UUID], Event.enterprise_id)

BATCH = 200


def parse_last_event_id(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    problem = event_id_problem(value.strip())
    if problem is not None:
        raise field_error("Last-Event-ID", problem)
    return int(value.strip())


async def starting_point(
    session: AsyncSession, hub: StreamHub, caller: Caller, after: int | None
) -> int:
    """Resume after `after`; without it, start with what happens from now on (after the last
    settled event the caller may see). Either way the session gives its connection back: the
    stream holds none between reads."""
    try:
        if after is not None:
            return after
        settled = await hub.settled()
        latest = (
            await session.execute(
                visible_to(select(func.max(Event.id)), caller, _TENANT).where(Event.id <= settled)
            )
        ).scalar_one_or_none()
        return int(latest or 0)
    finally:
        await session.rollback()


async def _batch(session: AsyncSession, caller: Caller, after: int, settled: int) -> list[Any]:
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
            .where(Event.id > after, Event.id <= settled)
            .order_by(Event.id)
            .limit(BATCH)
        )
    ).all()
    await session.rollback()
    return list(rows)


def _sent(caller: Caller, row: Any) -> dict[str, Any] | None:
    data = visible_data(caller, row.type, row.data)
    if data is None:
        return None
    return {
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


async def open_stream(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hub: StreamHub,
    caller: Caller,
    after: int | None,
    disconnected: Callable[[], Any],
    caller_now: CallerNow,
    max_seconds: float,
) -> AsyncIterator[dict[str, Any]]:
    """Admit the caller's stream (429 past the cap) and find where it starts; the events follow
    as the answer is sent."""
    release = hub.admit(caller, sessionmaker)
    try:
        start = await starting_point(session, hub, caller, after)
    except BaseException:
        release()
        raise
    events = stream_events(
        sessionmaker, hub, caller, start, disconnected, caller_now, max_seconds, release
    )
    # A stream whose answer never started (its client gone first) still gives its place back.
    weakref.finalize(events, release)
    return events


async def stream_events(
    sessionmaker: async_sessionmaker[AsyncSession],
    hub: StreamHub,
    caller: Caller,
    after: int,
    disconnected: Callable[[], Any],
    caller_now: CallerNow,
    max_seconds: float,
    release: Callable[[], None],
) -> AsyncIterator[dict[str, Any]]:
    """Server-sent events `{id, event, data}` from `after` on, until the client goes away,
    `max_seconds` pass (the client reconnects with `Last-Event-ID`, losing nothing) or the
    caller's credentials no longer hold. The stream was admitted to `hub`; it gives its place
    back (`release`) at the end."""
    try:
        cursor = after
        loop = asyncio.get_running_loop()
        ends = loop.time() + max_seconds
        recheck = hub.settings.stream_recheck_seconds
        next_check = loop.time() + recheck
        while loop.time() < ends and not await disconnected():
            if loop.time() >= next_check:
                if await caller_now() != caller:
                    return  # revoked, signed out, removed, or its rights changed
                next_check = loop.time() + recheck
            moved = hub.next_move()
            settled = await hub.settled()
            rows: list[Any] = []
            if settled > cursor:
                async with sessionmaker() as session:
                    rows = await _batch(session, caller, cursor, settled)
                if not rows:
                    cursor = settled  # nothing of the caller's up to the watermark
            for row in rows:
                cursor = row.id
                sent = _sent(caller, row)
                if sent is not None:
                    yield sent
            if len(rows) < BATCH:
                wake_by = min(ends, next_check, loop.time() + hub.settings.stream_poll_seconds)
                await wait_for_move(moved, wake_by - loop.time())
    finally:
        release()
