"""The event record: one history row and its outbox row in the caller's transaction, and the
history of a resource as the caller may see it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, func, insert, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import driver_connection
from app.core.errors import field_error
from app.core.event_registry import MAX_EVENT_ID, EventPayload, customer_view
from app.core.pagination import Page, PageParams, decode_cursor, page_of
from app.core.reads import read_of
from app.core.schemas import Instant, ResponseBody
from app.core.tenancy import Caller, visible_to
from app.models.base import NO_TENANT
from app.models.platform import Event, OutboxMessage

# Woken by the worker's LISTEN: a new outbox row is delivered at once, not at
# the next sweep. NOTIFY inside a transaction is sent only when it commits.
OUTBOX_CHANNEL = "carrierdesk_outbox"

# Built once: a statement object memoises its cache key, so executing the
# same object with new parameters skips SQLAlchemy's per-call key generation.
# Table-level (Core) inserts: an ORM-entity insert executed with a parameter
# dict would be taken for an ORM bulk insert.
_events = cast(Table, Event.__table__)

# The event id is drawn after the transaction has its xid (`pg_current_xact_id()`, in a
# MATERIALIZED CTE the insert reads from): so a reader that sees an id drawn also sees the
# transaction that drew it running, and `EventWatermark` waits for that transaction before
# passing the id. MATERIALIZED, because `pg_current_xact_id()` is only STABLE: a plain CTE
# whose column nobody reads is inlined and dropped by the planner, and the id would then be
# drawn before the transaction had an xid (`tests/test_event_ids_after_xid.py` checks it).
_EVENT_ID = "nextval(pg_get_serial_sequence('events', 'id'))"
_XACT_CTE = "xact AS MATERIALIZED (SELECT pg_current_xact_id() AS xid)"

_xact = select(func.pg_current_xact_id().label("xid")).cte("xact").prefix_with("MATERIALIZED")

_new_event = (
    insert(_events)
    .from_select(
        ["id", "enterprise_id", "subject_type", "subject_id", "type", "at", "actor", "data"],
        select(
            literal_column(_EVENT_ID),
            bindparam("enterprise_id", type_=_events.c.enterprise_id.type),
            bindparam("subject_type", type_=_events.c.subject_type.type),
            bindparam("subject_id", type_=_events.c.subject_id.type),
            bindparam("type", type_=_events.c.type.type),
            bindparam("at", type_=_events.c.at.type),
            bindparam("actor", type_=_events.c.actor.type),
            bindparam("data", type_=_events.c.data.type),
        ).select_from(_xact),
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
    payload: EventPayload,
    *,
    subject_id: uuid.UUID,
    at: datetime,
    actor: str,
    enterprise_id: uuid.UUID | None,
    notify: bool = True,
) -> int:
    """Write the event and its outbox row in one round trip; return the event id."""
    params = {
        "enterprise_id": enterprise_id,
        "subject_type": payload.subject_type,
        "subject_id": subject_id,
        "type": payload.event_type,
        "at": at,
        "actor": actor,
        "data": payload.stored(),
    }
    connection = await session.connection()
    event_id: int = (await connection.execute(_RECORD, params)).scalar_one()
    if notify:
        await connection.execute(_NOTIFY_OUTBOX)
    return event_id


class NewEvent(NamedTuple):
    """One event of a batch for `record_events`."""

    payload: EventPayload
    subject_id: uuid.UUID
    enterprise_id: uuid.UUID | None


def _event_and_outbox(
    source: str,
    *,
    subject_type: str,
    subject_id: str,
    event_type: str,
    at: str,
    actor: str,
    data: str,
    order_by: str | None = None,
) -> str:
    """The CTEs `xact`, `e`, `o`: one event and its outbox row for each row of the CTE `source`,
    every value a SQL expression over it. The transaction takes its xid before it draws an event
    id; `order_by` orders the rows before the ids are drawn (the ORDER BY is applied before the
    select list, where `nextval` is)."""
    order = f" ORDER BY {order_by}" if order_by else ""
    return f"""{_XACT_CTE},
e AS (
  INSERT INTO events (id, enterprise_id, subject_type, subject_id, type, at, actor, data)
  SELECT {_EVENT_ID}, {source}.enterprise_id, {subject_type}, {subject_id}, {event_type},
      {at}, {actor}, {data}::jsonb FROM xact, {source}{order}
  RETURNING id, enterprise_id, at
),
o AS (
  INSERT INTO outbox (event_id, enterprise_id, created_at)
  SELECT e.id, e.enterprise_id, e.at FROM e
)"""


# The same writes as `_RECORD`, for many events in one statement: the CTEs `src` (the events,
# $1-$5 one array a field), `xact`, `e`, `o`, every event at $6 by $7, ids drawn in the order the
# events are given. A statement that folds them in (the SLA engine's batch) numbers its own
# parameters from $8.
EVENT_BATCH_CTES = f"""src AS MATERIALIZED (
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[])
    WITH ORDINALITY AS s(enterprise_id, subject_type, subject_id, type, data, ord)
),
{
    _event_and_outbox(
        "src",
        subject_type="src.subject_type",
        subject_id="src.subject_id",
        event_type="src.type",
        at="$6::timestamptz",
        actor="$7::text",
        data="src.data",
        order_by="src.ord",
    )
}"""

# NOTIFY the outbox once for a batch (sent at commit), when it has an event.
NOTIFY_EVENT_BATCH = f"SELECT pg_notify('{OUTBOX_CHANNEL}', '') WHERE cardinality($1::uuid[]) > 0"

_RECORD_MANY = f"WITH {EVENT_BATCH_CTES}\n{NOTIFY_EVENT_BATCH}"


def event_batch_args(events: Sequence[NewEvent], *, at: datetime, actor: str) -> list[Any]:
    """The parameters $1-$7 of `EVENT_BATCH_CTES` for `events`."""
    return [
        [NO_TENANT if e.enterprise_id is None else e.enterprise_id for e in events],
        [e.payload.subject_type for e in events],
        [e.subject_id for e in events],
        [e.payload.event_type for e in events],
        [e.payload.stored_json() for e in events],
        at,
        actor,
    ]


async def record_events(
    session: AsyncSession, events: Sequence[NewEvent], *, at: datetime, actor: str
) -> None:
    """Write many events and their outbox rows in one round trip, in the caller's transaction,
    ids ascending in the order given; NOTIFY the outbox once (sent at commit)."""
    if not events:
        return
    driver = await driver_connection(session)
    await driver.execute(_RECORD_MANY, *event_batch_args(events, at=at, actor=actor))


def event_and_outbox_ctes(
    source: str, *, subject_type: str, event_type: str, at: str, actor: str, data: str
) -> str:
    """The same writes as `record_event`, as the CTEs `xact`, `e`, `o` for a hot path that folds
    them into its own statement: one event of `event_type` about `subject_type` and its outbox
    row for each row of the CTE `source` (which has `id` and `enterprise_id`). `at`, `actor` and
    `data` are SQL expressions (usually parameters). Kept here so that one file changes when the
    events or outbox tables do."""
    return _event_and_outbox(
        source,
        subject_type=f"'{subject_type}'",
        subject_id=f"{source}.id",
        event_type=f"'{event_type}'",
        at=at,
        actor=actor,
        data=data,
    )


async def events_page(
    session: AsyncSession,
    caller: Caller,
    subject_type: str,
    subject_id: uuid.UUID,
    params: PageParams,
) -> Page[EventRead]:
    """A resource's history, oldest first, a page at a time; a customer sees only its
    enterprises' events, each in the customer's view (staff-only events and fields left out)."""
    stmt = visible_to(select(Event), caller, Event.enterprise_id).where(
        Event.subject_type == subject_type, Event.subject_id == subject_id
    )
    if params.updated_since is not None:
        stmt = stmt.where(Event.at >= params.updated_since)
    if params.cursor:
        stmt = stmt.where(Event.id > _event_id_of(params.cursor))
    rows = (await session.execute(stmt.order_by(Event.id).limit(params.limit + 1))).scalars()
    items, cursor = page_of(list(rows), params, lambda e: (e.at, e.id))
    reads = [read for e in items if (read := event_read(caller, e)) is not None]
    return Page(items=reads, next_cursor=cursor)


def _event_id_of(cursor: str) -> int:
    _, last_id = decode_cursor(cursor)
    try:
        event_id = int(last_id)
    except ValueError as exc:
        raise field_error("cursor", "not a cursor this API gave out") from exc
    if not 0 <= event_id <= MAX_EVENT_ID:
        raise field_error("cursor", "not a cursor this API gave out")
    return event_id


def visible_data(
    caller: Caller, event_type: str, data: dict[str, Any] | None
) -> dict[str, Any] | None:
    """An event's body as the caller may see it: staff see it whole, customers their view of
    it; None when the whole event is for staff only."""
    if caller.is_provider:
        return data or {}
    return customer_view(event_type, data or {})


def event_read(caller: Caller, event: Event) -> EventRead | None:
    """One event as the caller may see it (None when the whole event is for staff only)."""
    data: dict[str, Any] | None = visible_data(caller, event.type, event.data)
    if data is None:
        return None
    return read_of(EventRead, event, data=data)


# An instant given with any offset, kept and answered in UTC (RFC 3339 UTC everywhere).
# `Instant` also refuses offsets that push it outside years 1..9999 (a 422, not
# an OverflowError escaping the validator as a 500).
UtcDateTime = Instant


class EventRead(ResponseBody):
    id: int
    type: str
    at: datetime
    actor: str
    enterprise_id: uuid.UUID | None
    data: dict[str, Any]
