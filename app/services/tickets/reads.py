"""Reading tickets: one statement per ticket or page, clocks folded in as JSON (no ORM graph)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import driver_connection
from app.core.errors import NotFound
from app.core.events import EventRead, events_page
from app.core.pagination import Page, PageParams, keyset, page_of
from app.core.tenancy import Caller, visible_enterprise_ids, visible_to
from app.models import SlaClock, Ticket
from app.services.tickets.rules import format_duration
from app.services.tickets.schemas import ClockRead, SiteRead, TicketFilters, TicketRead

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


# The read a NOC polls most, in plain SQL on the driver: one round trip and no
# transaction around it (the ORM session would add BEGIN and ROLLBACK).
_GET_TICKET = """
SELECT t.id, t.number, t.enterprise_id, t.service_id, t.severity, t.summary, t.description,
       t.contact, t.site, t.city_tier, t.status, t.stage, t.escalation_level, t.breached,
       t.hold_reason, t.external_id, t.channel, t.reported_at, t.created_at, t.updated_at,
       t.version,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                   'stage', c.stage, 'started_at', c.started_at,
                   'target_seconds', c.target_seconds, 'due_at', c.due_at,
                   'completed_at', c.completed_at, 'paused_seconds', c.paused_seconds,
                   'state', c.state, 'warned_at', c.warned_at, 'breached_at', c.breached_at,
                   'escalation_level', c.escalation_level) ORDER BY c.id)
                   FROM sla_clocks c
                  WHERE c.enterprise_id = t.enterprise_id AND c.ticket_id = t.id),
                '[]'::jsonb) AS sla
  FROM tickets t
 WHERE t.id = $1 AND ($2::uuid[] IS NULL OR t.enterprise_id = ANY($2::uuid[]))
"""


async def get_ticket(session: AsyncSession, caller: Caller, ticket_id: uuid.UUID) -> TicketRead:
    """One ticket with its clocks, in one statement."""
    driver = await driver_connection(session)
    row = await driver.fetchrow(_GET_TICKET, ticket_id, visible_enterprise_ids(caller))
    if row is None:
        raise NotFound(f"ticket {ticket_id} not found")
    return ticket_read(row)


async def list_tickets(
    session: AsyncSession, caller: Caller, filters: TicketFilters, paging: PageParams
) -> Page[TicketRead]:
    stmt = visible_to(ticket_select(), caller, Ticket.enterprise_id)
    if filters.enterprise_id is not None:
        stmt = stmt.where(_T.enterprise_id == caller.require_enterprise(filters.enterprise_id))
    if filters.status is not None:
        stmt = stmt.where(_T.status == filters.status.value)
    if filters.stage is not None:
        stmt = stmt.where(_T.stage == filters.stage.value)
    if filters.severity is not None:
        stmt = stmt.where(_T.severity == filters.severity.value)
    if filters.breached is not None:
        stmt = stmt.where(_T.breached.is_(filters.breached))
    stmt = keyset(stmt, paging, Ticket.updated_at, Ticket.id)
    rows = (await session.execute(stmt)).all()
    items, cursor = page_of(rows, paging, lambda r: (r.updated_at, r.id))
    return Page(items=[ticket_read(r) for r in items], next_cursor=cursor)


async def ticket_events(
    session: AsyncSession, caller: Caller, ticket_id: uuid.UUID, paging: PageParams
) -> Page[EventRead]:
    """The ticket's history, oldest first, a page at a time, as the caller may see it: staff
    see every event whole, customers their view (internal notes and staff-only fields left out)."""
    await fetch_ticket(session, caller, ticket_id)
    return await events_page(session, caller, "ticket", ticket_id, paging)
