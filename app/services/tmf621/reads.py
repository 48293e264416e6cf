"""TMF621 reads: Carrier Desk tickets shown as TroubleTicket resources, listed and filtered."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound, field_error
from app.core.event_registry import EventPayload, customer_payload
from app.core.tenancy import Caller, visible_to
from app.models import Enterprise, Event, Service, Ticket, TmfTicketAttributes
from app.services.attachments.events import (
    AttachmentEvent,
    TicketAttachmentAdded,
    tmf_attachment_ref,
)
from app.services.tickets.events import (
    TicketCreated,
    TicketEventType,
    TicketHeld,
    TicketMove,
    TicketNoteAdded,
    TicketResumed,
)
from app.services.tmf621.incidents import with_incidents
from app.services.tmf621.rules import TMF_STATUSES, select_fields, stages_of_status, tmf_status

BASE = "/tmf-api/troubleTicket/v4"

FILTERABLE = ("id", "externalId", "severity", "status", "ticketType", "priority", "name")

_HISTORY = (
    TicketEventType.created,
    TicketEventType.stage_changed,
    TicketEventType.held,
    TicketEventType.resumed,
    TicketEventType.closed,
    TicketEventType.cancelled,
    TicketEventType.note_added,
    AttachmentEvent.ticket_attachment_added,
)


def href(ticket_id: uuid.UUID | str) -> str:
    return f"{BASE}/troubleTicket/{ticket_id}"


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


def _tmf_severity() -> ColumnElement[Any]:
    return func.coalesce(TmfTicketAttributes.severity, Ticket.severity)


def _tmf_type() -> ColumnElement[Any]:
    return func.coalesce(TmfTicketAttributes.ticket_type, literal("incident"))


def _base() -> Any:
    return (
        select(
            Ticket.id,
            Ticket.number,
            Ticket.enterprise_id,
            Ticket.service_id,
            Ticket.severity,
            Ticket.summary,
            Ticket.description,
            Ticket.contact,
            Ticket.stage,
            Ticket.status,
            Ticket.external_id,
            Ticket.restored_at,
            Ticket.created_at,
            Ticket.updated_at,
            _tmf_severity().label("tmf_severity"),
            _tmf_type().label("ticket_type"),
            TmfTicketAttributes.priority,
            Service.code.label("service_code"),
            Enterprise.name.label("enterprise_name"),
        )
        .outerjoin(
            Service,
            and_(Service.enterprise_id == Ticket.enterprise_id, Service.id == Ticket.service_id),
        )
        .join(Enterprise, Enterprise.id == Ticket.enterprise_id)
        .outerjoin(
            TmfTicketAttributes,
            (TmfTicketAttributes.enterprise_id == Ticket.enterprise_id)
            & (TmfTicketAttributes.ticket_id == Ticket.id),
        )
    )


async def _history(
    session: AsyncSession, ticket_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Any]]:
    if not ticket_ids:
        return {}
    rows = (
        await session.execute(
            select(Event.subject_id, Event.type, Event.at, Event.actor, Event.data, Event.id)
            .where(
                Event.subject_type == "ticket",
                Event.subject_id.in_(ticket_ids),
                Event.type.in_(_HISTORY),
            )
            .order_by(Event.subject_id, Event.id)
        )
    ).all()
    history: dict[uuid.UUID, list[Any]] = {}
    for row in rows:
        history.setdefault(row.subject_id, []).append(row)
    return history


def represent(row: Any, history: Sequence[Any]) -> dict[str, Any]:
    """The TroubleTicket resource of one ticket row and its history.

    TMF621 is the customer's face (and its hubs' events are built from it): it shows the
    customer's view, so an internal note, an event for staff only, is never among its notes."""
    changes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    attachments: list[dict[str, Any]] = []
    for event in history:
        payload = customer_payload(event.type, event.data)
        if payload is None:
            continue
        if isinstance(payload, TicketNoteAdded):
            notes.append(
                {
                    "id": str(event.id),
                    "author": event.actor,
                    "date": _iso(event.at),
                    "text": payload.body,
                    "@type": "Note",
                }
            )
            continue
        if isinstance(payload, TicketAttachmentAdded):
            attachments.append(tmf_attachment_ref(payload))
            continue
        status, reason = _status_after(payload)
        if status is not None and (not changes or changes[-1]["status"] != status):
            changes.append(
                {
                    "status": status,
                    "changeDate": _iso(event.at),
                    "changeReason": reason or None,
                    "@type": "StatusChange",
                }
            )
    contact = row.contact or {}
    parties = [
        {
            "id": str(row.enterprise_id),
            "name": row.enterprise_name,
            "role": "customer",
            "@referredType": "Organization",
        }
    ]
    if contact.get("name"):
        parties.append(
            {
                "id": contact.get("email") or contact.get("phone") or contact["name"],
                "name": contact["name"],
                "role": "reporter",
                "@referredType": "Individual",
            }
        )
    return {
        "id": str(row.id),
        "href": href(row.id),
        "name": row.summary,
        "description": row.description or row.summary,
        "externalId": row.external_id,
        "severity": row.tmf_severity,
        "ticketType": row.ticket_type,
        "priority": row.priority,
        "status": tmf_status(row.stage, row.status),
        "statusChangeDate": changes[-1]["changeDate"] if changes else _iso(row.created_at),
        "creationDate": _iso(row.created_at),
        "lastUpdate": _iso(row.updated_at),
        "resolutionDate": _iso(row.restored_at),
        "relatedParty": parties,
        "relatedEntity": [
            {
                "id": str(row.service_id),
                "name": row.service_code,
                "role": "affectedService",
                "@referredType": "Service",
            }
        ]
        if row.service_id is not None
        else [],
        "note": notes,
        "attachment": attachments,
        "statusChange": changes,
        "troubleTicketCharacteristic": [{"name": "number", "value": row.number}],
        "@type": "TroubleTicket",
    }


def _status_after(payload: EventPayload) -> tuple[str | None, str | None]:
    """The TMF status a ticket event leaves the ticket in, and the reason it gives."""
    match payload:
        case TicketCreated():
            return tmf_status(payload.stage, "open"), None
        case TicketMove():
            to = payload.to
            return tmf_status(to, to if to in ("closed", "cancelled") else "open"), payload.note
        case TicketHeld():
            return "pending", payload.reason
        case TicketResumed():
            return tmf_status(payload.stage, "open"), payload.note
    return None, None


async def represent_tickets(
    session: AsyncSession, ticket_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """Representations of many tickets in two queries (for hub events)."""
    if not ticket_ids:
        return {}
    rows = (await session.execute(_base().where(Ticket.id.in_(ticket_ids)))).all()
    history = await _history(session, [r.id for r in rows])
    return {r.id: represent(r, history.get(r.id, [])) for r in rows}


def _filter(name: str, value: str) -> ColumnElement[bool]:
    match name:
        case "id":
            try:
                return Ticket.id == uuid.UUID(value)
            except ValueError:
                return Ticket.number == value
        case "externalId":
            return Ticket.external_id == value
        case "severity":
            return _tmf_severity() == value
        case "ticketType":
            return _tmf_type() == value
        case "priority":
            return TmfTicketAttributes.priority == value
        case "name":
            return Ticket.summary == value
        case "status":
            if value not in TMF_STATUSES:
                raise field_error("status", f"one of {', '.join(TMF_STATUSES)}")
            stages, waiting = stages_of_status(value)
            if waiting is True:
                return Ticket.status == "waiting_for_customer"
            condition: ColumnElement[bool] = Ticket.stage.in_(stages)
            if waiting is False:
                condition = and_(condition, Ticket.status != "waiting_for_customer")
            return condition
    raise field_error(name, f"filtering is offered on {', '.join(FILTERABLE)}")


async def list_tickets(
    session: AsyncSession,
    caller: Caller,
    filters: dict[str, str],
    fields: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """A page of tickets (oldest first) and how many match in all."""
    conditions = [_filter(name, value) for name, value in filters.items()]
    stmt = visible_to(_base(), caller, Ticket.enterprise_id).where(*conditions)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        await session.execute(
            stmt.order_by(Ticket.created_at, Ticket.number).offset(offset).limit(limit)
        )
    ).all()
    history = await _history(session, [r.id for r in rows])
    items = [select_fields(represent(r, history.get(r.id, [])), fields) for r in rows]
    return await with_incidents(session, caller, items), int(total)


def path_id(value: str, what: str) -> uuid.UUID:
    """The id in a TMF621 path: one that is not a UUID is unknown like any other (404)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{what} {value} not found") from None


async def get_ticket(
    session: AsyncSession, caller: Caller, ticket_id: str, fields: str | None = None
) -> dict[str, Any]:
    key = path_id(ticket_id, "trouble ticket")
    row = (
        await session.execute(
            visible_to(_base(), caller, Ticket.enterprise_id).where(Ticket.id == key)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"trouble ticket {ticket_id} not found")
    history = await _history(session, [row.id])
    shown = select_fields(represent(row, history.get(row.id, [])), fields)
    return (await with_incidents(session, caller, [shown]))[0]
