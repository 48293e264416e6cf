"""Reading tickets: one statement per ticket or page, clocks folded in as JSON (no ORM graph);
the hot reads answer the JSON the server wrote."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import Db, driver_connection
from app.core.errors import NotFound
from app.core.events import EventRead, events_page
from app.core.pagination import Page, PageParams, decode_uuid_cursor, page_of
from app.core.tenancy import Caller, visible_enterprise_ids, visible_to
from app.models import SlaClock, Ticket
from app.services.tickets.rules import format_duration
from app.services.tickets.schemas import ClockRead, SiteRead, TicketFilters, TicketRead
from app.services.tickets.ticket_json import TICKET, finish

_T = Ticket.__table__.c
_C = SlaClock.__table__.c

CLOCK_JSON = func.jsonb_build_object(
    "stage", _C.stage,
    "started_at", _C.started_at,
    "target_seconds", _C.target_seconds,
    "due_at", _C.due_at,
    "completed_at", _C.completed_at,
    "paused_seconds", _C.paused_seconds,
    "state", _C.state,
    "warned_at", _C.warned_at,
    "breached_at", _C.breached_at,
    "escalation_level", _C.escalation_level,
)  # fmt: skip

SLA_OF_TICKET = (
    select(
        func.coalesce(
            func.jsonb_agg(aggregate_order_by(CLOCK_JSON, _C.id)),
            literal_column("'[]'::jsonb"),
            type_=JSONB,
        )
    )
    .where(_C.enterprise_id == _T.enterprise_id, _C.ticket_id == _T.id)
    .scalar_subquery()
    .label("sla")
)

TICKET_COLUMNS = (
    _T.id, _T.number, _T.enterprise_id, _T.service_id, _T.severity, _T.summary,
    _T.description, _T.contact, _T.site, _T.city_tier, _T.status, _T.stage,
    _T.escalation_level, _T.breached, _T.hold_reason, _T.external_id, _T.channel,
    _T.reported_at, _T.created_at, _T.updated_at, _T.version,
)  # fmt: skip


def ticket_select() -> Select[Any]:
    return select(*TICKET_COLUMNS, SLA_OF_TICKET)


def _dt(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(value).astimezone(UTC)


def clock_read(c: dict[str, Any]) -> ClockRead:
    target = c.get("target_seconds")
    started = _dt(c["started_at"])
    assert started is not None
    return ClockRead(
        stage=c["stage"],
        started_at=started,
        target=None if target is None else format_duration(timedelta(seconds=float(target))),
        due_at=_dt(c.get("due_at")),
        completed_at=_dt(c.get("completed_at")),
        paused_seconds=round(float(c.get("paused_seconds") or 0.0), 6),
        state=c["state"],
        warned_at=_dt(c.get("warned_at")),
        breached_at=_dt(c.get("breached_at")),
        escalation_level=int(c.get("escalation_level") or 0),
    )


def _decoded(value: Any) -> Any:
    # The driver hands jsonb back as text; SQLAlchemy's rows arrive decoded.
    return json.loads(value) if isinstance(value, str) else value


def ticket_read(row: Any) -> TicketRead:
    """The row as it is, but for its JSON columns, decoded and shaped."""
    m = row._mapping if hasattr(row, "_mapping") else row
    sla = _decoded(m["sla"])
    return TicketRead.model_validate(
        {
            **m,
            "contact": _decoded(m["contact"]),
            "site": None if m["site"] is None else SiteRead.model_validate(_decoded(m["site"])),
            "sla": [clock_read(c) for c in (sla or [])],
        }
    )


async def fetch_ticket(session: AsyncSession, caller: Caller, ticket_id: uuid.UUID) -> TicketRead:
    stmt = visible_to(ticket_select(), caller, Ticket.enterprise_id).where(_T.id == ticket_id)
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return ticket_read(row)


# The reads a NOC polls most, in plain SQL on the driver: one round trip each and no
# transaction around it (the ORM session would add BEGIN and ROLLBACK); the server writes
# the JSON (`ticket_json`), the route answers it as it comes.
_GET_TICKET = f"""
SELECT t.version, {TICKET} AS body
  FROM tickets t
 WHERE t.id = $1 AND ($2::uuid[] IS NULL OR t.enterprise_id = ANY($2::uuid[]))
"""


@dataclass(frozen=True, slots=True)
class TicketJson:
    """A ticket's `TicketRead` document, ready to send, and its version (the ETag)."""

    body: bytes
    version: int


async def get_ticket(db: Db, caller: Caller, ticket_id: uuid.UUID) -> TicketJson:
    """One ticket with its clocks, in one statement."""
    driver = await driver_connection(db)
    row = await driver.fetchrow(_GET_TICKET, ticket_id, visible_enterprise_ids(caller))
    if row is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return TicketJson(finish(row["body"]), row["version"])


def _page_sql(caller: Caller, filters: TicketFilters, paging: PageParams) -> tuple[str, list[Any]]:
    """The page statement for these filters (each combination its own prepared statement, so
    every plan walks an index in (updated_at, id) order), and its parameters."""
    where: list[str] = []
    args: list[Any] = []

    def arg(value: Any, cast: str) -> str:
        args.append(value)
        return f"${len(args)}::{cast}"

    visible = visible_enterprise_ids(caller)
    if visible is not None:
        # The same decision as `visible_to`; one enterprise as `=`, so the plan walks
        # (enterprise_id, updated_at, id) in order and the query routes to one shard.
        if len(visible) == 1:
            where.append(f"t.enterprise_id = {arg(visible[0], 'uuid')}")
        else:
            where.append(f"t.enterprise_id = ANY({arg(visible, 'uuid[]')})")
    if filters.enterprise_id is not None:
        wanted = caller.require_enterprise(filters.enterprise_id)
        where.append(f"t.enterprise_id = {arg(wanted, 'uuid')}")
    for column, chosen in (
        ("status", filters.status),
        ("stage", filters.stage),
        ("severity", filters.severity),
    ):
        if chosen is not None:
            where.append(f"t.{column} = {arg(chosen.value, 'text')}")
    if filters.breached is not None:
        where.append(f"t.breached = {arg(filters.breached, 'boolean')}")
    if paging.updated_since is not None:
        where.append(f"t.updated_at >= {arg(paging.updated_since, 'timestamptz')}")
    if paging.cursor:
        at, after = decode_uuid_cursor(paging.cursor)
        where.append(f"(t.updated_at, t.id) > ({arg(at, 'timestamptz')}, {arg(after, 'uuid')})")
    sql = (
        f"SELECT t.updated_at, t.id, {TICKET} AS body FROM tickets t"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY t.updated_at, t.id LIMIT {arg(paging.limit + 1, 'int8')}"
    )
    return sql, args


async def list_tickets(db: Db, caller: Caller, filters: TicketFilters, paging: PageParams) -> bytes:
    """A page of tickets (`Page[TicketRead]`) as the document to send, in one statement."""
    sql, args = _page_sql(caller, filters, paging)
    driver = await driver_connection(db)
    rows = await driver.fetch(sql, *args)
    items, cursor = page_of(rows, paging, lambda r: (r["updated_at"], r["id"]))
    body = ",".join(r["body"] for r in items)
    return finish(f'{{"items":[{body}],"next_cursor":{json.dumps(cursor)}}}')


async def ticket_events(
    session: AsyncSession, caller: Caller, ticket_id: uuid.UUID, paging: PageParams
) -> Page[EventRead]:
    """The ticket's history, oldest first, a page at a time, as the caller may see it: staff
    see every event whole, customers their view (internal notes and staff-only fields left out)."""
    await fetch_ticket(session, caller, ticket_id)
    return await events_page(session, caller, "ticket", ticket_id, paging)
