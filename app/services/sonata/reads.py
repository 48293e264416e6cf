"""Sonata reads: Carrier Desk tickets as SonataTroubleTicket resources, listed with the spec's
filters. Every query is scoped to the caller (`visible_to`); another buyer's id is a 404."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound, field_error
from app.core.event_registry import customer_view
from app.core.roles import PROVIDER_ROLES
from app.core.tenancy import Caller, visible_to
from app.models import ApiClient, Event, SonataTicketAttributes, Ticket, User
from app.services.incidents.service import incidents_of_tickets
from app.services.sonata.errors import MissingQueryParameter
from app.services.sonata.rules import (
    BASE,
    DEFAULT_TICKET_TYPE,
    IMPACT_OF_SEVERITY,
    NOTE_SOURCE_BUYER,
    NOTE_SOURCE_SELLER,
    SELLER_ID,
    SELLER_PRIORITY,
    SELLER_SEVERITY,
    SonataStatus,
    sonata_status,
    stages_of,
    status_after,
)
from app.services.sonata.schemas import SonataTroubleTicket
from app.services.tickets.events import TicketEventType
from app.services.tickets.rules import Status

_HISTORY = (
    TicketEventType.created,
    TicketEventType.stage_changed,
    TicketEventType.held,
    TicketEventType.resumed,
    TicketEventType.closed,
    TicketEventType.cancelled,
    TicketEventType.note_added,
)

_A = SonataTicketAttributes


def _of_severity(table: dict[str, Any]) -> ColumnElement[Any]:
    """A mapping table of `rules` over the ticket's own severity, in SQL (for filters)."""
    return case({k: v.value for k, v in table.items()}, value=Ticket.severity)


# The attribute a filter compares: the buyer's value, or what the mapping derives for a
# ticket opened elsewhere (the same fallbacks `represent` shows).
_ATTRIBUTES: dict[str, ColumnElement[Any]] = {
    "severity": func.coalesce(_A.severity, _of_severity(SELLER_SEVERITY)),
    "priority": func.coalesce(_A.priority, _of_severity(SELLER_PRIORITY)),
    "sellerSeverity": _of_severity(SELLER_SEVERITY),
    "sellerPriority": _of_severity(SELLER_PRIORITY),
    "ticketType": func.coalesce(_A.ticket_type, DEFAULT_TICKET_TYPE.value),
    "observedImpact": func.coalesce(_A.observed_impact, _of_severity(IMPACT_OF_SEVERITY)),
}


TICKET_FILTERS = (
    "externalId",
    "priority",
    "sellerPriority",
    "severity",
    "sellerSeverity",
    "ticketType",
    "status",
    "observedImpact",
    "relatedEntityId",
    "relatedEntityType",
    "creationDate.gt",
    "creationDate.lt",
    "expectedResolutionDate.gt",
    "expectedResolutionDate.lt",
    "resolutionDate.gt",
    "resolutionDate.lt",
)


def buyer_of(caller: Caller, buyer_id: str | None, seller_id: str | None) -> uuid.UUID | None:
    """The buyer a request names (`buyerId`: one of the caller's enterprises, else 404), and
    a `sellerId` that must be Carrier Desk's own if sent."""
    if seller_id is not None and seller_id != SELLER_ID:
        raise NotFound(f"seller {seller_id} not found; this API answers for {SELLER_ID}")
    if buyer_id is None:
        return None
    try:
        buyer = uuid.UUID(buyer_id)
    except ValueError:
        raise NotFound(f"buyer {buyer_id} not found") from None
    return caller.require_enterprise(buyer)


def acting_buyer(caller: Caller, buyer: uuid.UUID | None) -> uuid.UUID:
    """The buyer a creation acts for: the one `buyerId` named, or the caller's only one."""
    if buyer is None and (caller.is_provider or len(caller.enterprise_ids) > 1):
        if caller.default_enterprise_id is None or caller.is_provider:
            raise MissingQueryParameter("buyerId: required, the caller acts for several buyers")
    return caller.acting_enterprise(buyer)


def href(kind: str, key: uuid.UUID | str) -> str:
    return f"{BASE}/{kind}/{key}"


def path_id(value: str, what: str) -> uuid.UUID:
    """An id in a Sonata path: one that is not a UUID is unknown like any other (404)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{what} {value} not found") from None


def _base() -> Any:
    return select(
        Ticket.id,
        Ticket.number,
        Ticket.enterprise_id,
        Ticket.service_id,
        Ticket.severity,
        Ticket.description,
        Ticket.summary,
        Ticket.contact,
        Ticket.stage,
        Ticket.status,
        Ticket.external_id,
        Ticket.reported_at,
        Ticket.restored_at,
        Ticket.created_at,
        _A.ticket_type,
        _A.priority,
        _A.severity.label("buyer_severity"),
        _A.observed_impact,
        _A.contacts,
        _A.issue_start_date,
        _A.reopened_stage,
    ).outerjoin(_A, (_A.enterprise_id == Ticket.enterprise_id) & (_A.ticket_id == Ticket.id))


async def _history(session: AsyncSession, ticket_ids: Sequence[uuid.UUID]) -> list[Any]:
    # The events of tickets just selected through visible_to.
    stmt = (
        select(Event.subject_id, Event.type, Event.at, Event.actor, Event.data, Event.id)
        .where(
            Event.subject_type == "ticket",
            Event.subject_id.in_(ticket_ids),
            Event.type.in_(_HISTORY),
        )
        .order_by(Event.id)
    )
    return list((await session.execute(stmt)).all())


async def _seller_actors(session: AsyncSession, actors: set[str]) -> set[str]:
    """Which of the events' actors are the seller's staff (their notes' `source`)."""
    ids = {kind: [] for kind in ("api_client", "user")}  # type: dict[str, list[uuid.UUID]]
    for actor in actors:
        kind, _, key = actor.partition(":")
        try:
            ids.setdefault(kind, []).append(uuid.UUID(key))
        except ValueError:
            continue
    staff = [r.value for r in PROVIDER_ROLES]
    found: set[str] = set()
    if ids["api_client"]:
        stmt = select(ApiClient.id).where(ApiClient.id.in_(ids["api_client"]))
        found |= {
            f"api_client:{i}"
            for i in (await session.scalars(stmt.where(ApiClient.role.in_(staff))))
        }
    if ids["user"]:
        stmt_u = select(User.id).where(User.id.in_(ids["user"]), User.role.in_(staff))
        found |= {f"user:{i}" for i in (await session.scalars(stmt_u))}
    return found


def _contacts(row: Any) -> list[dict[str, Any]]:
    if row.contacts:
        return list(row.contacts)
    contact = row.contact or {}
    return [
        {
            "name": contact.get("name") or "",
            "emailAddress": contact.get("email") or "",
            "number": contact.get("phone") or "",
            "role": "reporter",
        }
    ]


def represent(
    row: Any, history: Sequence[Any], sellers: set[str], incidents: list[tuple[uuid.UUID, str]]
) -> dict[str, Any]:
    """The TroubleTicket of one ticket row: the buyer's values where it sent them, the seller's
    own assessment (`sellerSeverity`, `sellerPriority`) from the ticket's severity."""
    ours = row.severity
    notes: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for event in history:
        data = customer_view(event.type, event.data or {})
        if data is None:
            continue  # an internal note: staff only, not even that one was written
        if event.type == TicketEventType.note_added:
            source = NOTE_SOURCE_SELLER if event.actor in sellers else NOTE_SOURCE_BUYER
            notes.append(
                {
                    "id": str(event.id),
                    "author": event.actor,
                    "date": event.at,
                    "source": source,
                    "text": data.get("body", ""),
                }
            )
            continue
        status = status_after(event.type, data)
        if status is not None and (not changes or changes[-1]["status"] != status):
            reason = data.get("note") or data.get("reason")
            changes.append({"status": status, "changeDate": event.at, "changeReason": reason})
    status = sonata_status(row.stage, row.status, row.reopened_stage)
    if status is SonataStatus.reopened and (not changes or changes[-1]["status"] != status):
        changes.append(
            {
                "status": status,
                "changeDate": changes[-1]["changeDate"] if changes else row.created_at,
                "changeReason": "reopened by the buyer",
            }
        )
    related = []
    if row.service_id is not None:
        related.append(
            {"id": str(row.service_id), "role": "affectedProduct", "@referredType": "Product"}
        )
    ticket = {
        "id": str(row.id),
        "href": href("troubleTicket", row.id),
        "externalId": row.external_id,
        "description": row.description or row.summary,
        "status": status,
        "severity": row.buyer_severity or SELLER_SEVERITY[ours],
        "priority": row.priority or SELLER_PRIORITY[ours],
        "sellerSeverity": SELLER_SEVERITY[ours],
        "sellerPriority": SELLER_PRIORITY[ours],
        "ticketType": row.ticket_type or DEFAULT_TICKET_TYPE,
        "observedImpact": row.observed_impact or IMPACT_OF_SEVERITY[ours],
        "creationDate": row.created_at,
        "issueStartDate": row.issue_start_date or row.reported_at,
        "resolutionDate": row.restored_at,
        "relatedContactInformation": _contacts(row),
        "relatedEntity": related,
        "relatedIssue": [
            {
                "id": str(key),
                "href": href("incident", key),
                "@referredType": "Incident",
                "relationshipType": "isCausedBy",
                "source": "seller",
            }
            for key, _number in incidents
        ],
        "note": notes,
        "statusChange": changes,
    }
    return SonataTroubleTicket.model_validate(ticket).model_dump(
        mode="json", by_alias=True, exclude_none=True
    )


async def _represent_rows(
    session: AsyncSession, caller: Caller, rows: Sequence[Any]
) -> list[dict[str, Any]]:
    ids = [r.id for r in rows]
    if not ids:
        return []
    history = await _history(session, ids)
    per: dict[uuid.UUID, list[Any]] = {}
    for event in history:
        per.setdefault(event.subject_id, []).append(event)
    sellers = await _seller_actors(
        session, {e.actor for e in history if e.type == TicketEventType.note_added}
    )
    incidents = await incidents_of_tickets(session, caller, ids)
    return [represent(r, per.get(r.id, []), sellers, incidents.get(r.id, [])) for r in rows]


async def get_ticket(
    session: AsyncSession, caller: Caller, ticket_id: str, buyer: uuid.UUID | None = None
) -> dict[str, Any]:
    key = path_id(ticket_id, "troubleTicket")
    stmt = visible_to(_base(), caller, Ticket.enterprise_id).where(Ticket.id == key)
    if buyer is not None:
        stmt = stmt.where(Ticket.enterprise_id == buyer)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound(f"troubleTicket {ticket_id} not found")
    return (await _represent_rows(session, caller, [row]))[0]


def _status_filter(value: SonataStatus) -> ColumnElement[bool]:
    waiting = Ticket.status == Status.waiting_for_customer.value
    if value is SonataStatus.pending:
        return waiting
    stages = stages_of(value)
    in_stage = and_(Ticket.stage.in_(stages), ~waiting)
    if value is SonataStatus.reopened:
        return and_(in_stage, _A.reopened_stage == Ticket.stage)
    if value is SonataStatus.resolved:
        return and_(in_stage, or_(_A.reopened_stage.is_(None), _A.reopened_stage != Ticket.stage))
    return in_stage


def date_filter(column: Any, name: str, when: datetime) -> ColumnElement[bool]:
    """`<attribute>.gt` / `<attribute>.lt`: strictly after / before `when`."""
    condition: ColumnElement[bool] = column > when if name.endswith(".gt") else column < when
    return condition


def _filter(name: str, value: Any) -> ColumnElement[bool]:
    if name in _ATTRIBUTES:
        return _ATTRIBUTES[name] == str(value)
    match name:
        case "externalId":
            return Ticket.external_id == str(value)
        case "status":
            return _status_filter(SonataStatus(value))
        case "relatedEntityId":
            try:
                return Ticket.service_id == uuid.UUID(value)
            except ValueError:
                return Ticket.id.is_(None)  # no product has that id
        case "relatedEntityType":
            return Ticket.service_id.is_not(None) if value == "Product" else Ticket.id.is_(None)
        case "expectedResolutionDate.gt" | "expectedResolutionDate.lt":
            return Ticket.id.is_(None)  # the seller sets no expected resolution date
        case "creationDate.gt" | "creationDate.lt":
            return date_filter(Ticket.created_at, name, value)
        case "resolutionDate.gt" | "resolutionDate.lt":
            return date_filter(Ticket.restored_at, name, value)
    raise field_error(name, "not a filter of this face")


async def list_tickets(
    session: AsyncSession,
    caller: Caller,
    filters: dict[str, Any],
    buyer: uuid.UUID | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """A page of tickets (oldest first) and how many match in all."""
    stmt = visible_to(_base(), caller, Ticket.enterprise_id).where(
        *[_filter(k, v) for k, v in filters.items()]
    )
    if buyer is not None:
        stmt = stmt.where(Ticket.enterprise_id == buyer)
    stmt = stmt.order_by(Ticket.created_at, Ticket.number)
    total = await session.execute(select(func.count()).select_from(stmt.subquery()))
    rows = (await session.execute(stmt.offset(offset).limit(limit))).all()
    return await _represent_rows(session, caller, rows), int(total.scalar_one())
