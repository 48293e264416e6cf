"""TMF621 Trouble Ticket v4: a face on Carrier Desk's own tickets, not a second store."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.caller import Caller
from app.core.clock import Clock
from app.core.errors import Forbidden, NotFound, Unprocessable, field_error
from app.core.settings import Settings
from app.domain.delivery import new_webhook_secret
from app.domain.tmf621 import (
    KNOWN_SEVERITIES,
    TMF_STATUSES,
    carrier_desk_severity,
    hub_event_types,
    select_fields,
    stages_of_status,
    tmf_status,
)
from app.models import Enterprise, Event, Service, Ticket, TmfTicketAttributes, WebhookEndpoint
from app.schemas.tickets import NoteIn as TicketNoteIn
from app.schemas.tickets import TicketCreate, TicketUpdate
from app.schemas.tmf621 import (
    EventSubscription,
    EventSubscriptionInput,
    TroubleTicketCreate,
    TroubleTicketUpdate,
)
from app.services.addresses import AddressRefused, check_url
from app.services.events import record_event
from app.services.scoping import visible_to
from app.services.tickets import intake, workflow

BASE = "/tmf-api/troubleTicket/v4"
FILTERABLE = ("id", "externalId", "severity", "status", "ticketType", "priority", "name")
_HISTORY = (
    "ticket.created",
    "ticket.stage_changed",
    "ticket.held",
    "ticket.resumed",
    "ticket.closed",
    "ticket.cancelled",
    "ticket.note_added",
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
        .join(Service, Service.id == Ticket.service_id)
        .join(Enterprise, Enterprise.id == Ticket.enterprise_id)
        .outerjoin(TmfTicketAttributes, TmfTicketAttributes.ticket_id == Ticket.id)
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
    """The TroubleTicket resource of one ticket row and its history."""
    changes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for event in history:
        if event.type == "ticket.note_added":
            if event.data.get("visibility") != "internal":
                notes.append(
                    {
                        "id": str(event.id),
                        "author": event.actor,
                        "date": _iso(event.at),
                        "text": event.data.get("body", ""),
                        "@type": "Note",
                    }
                )
            continue
        status = _status_after(event)
        if status is not None and (not changes or changes[-1]["status"] != status):
            changes.append(
                {
                    "status": status,
                    "changeDate": _iso(event.at),
                    "changeReason": event.data.get("note") or event.data.get("reason") or None,
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
        ],
        "note": notes,
        "statusChange": changes,
        "troubleTicketCharacteristic": [{"name": "number", "value": row.number}],
        "@type": "TroubleTicket",
    }


def _status_after(event: Any) -> str | None:
    data = event.data
    match event.type:
        case "ticket.created":
            return tmf_status(str(data.get("stage", "reception")), "open")
        case "ticket.stage_changed" | "ticket.closed" | "ticket.cancelled":
            to = str(data.get("to"))
            return tmf_status(to, to if to in ("closed", "cancelled") else "open")
        case "ticket.held":
            return "pending"
        case "ticket.resumed":
            return tmf_status(str(data.get("stage")), "open")
    return None


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
            stmt.order_by(Ticket.created_at, Ticket.id).offset(offset).limit(limit)
        )
    ).all()
    history = await _history(session, [r.id for r in rows])
    items = [select_fields(represent(r, history.get(r.id, [])), fields) for r in rows]
    return items, int(total)


async def get_ticket(
    session: AsyncSession, caller: Caller, ticket_id: str, fields: str | None = None
) -> dict[str, Any]:
    try:
        key = uuid.UUID(ticket_id)
    except ValueError:
        raise NotFound(f"trouble ticket {ticket_id} not found") from None
    row = (
        await session.execute(
            visible_to(_base(), caller, Ticket.enterprise_id).where(Ticket.id == key)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"trouble ticket {ticket_id} not found")
    history = await _history(session, [row.id])
    return select_fields(represent(row, history.get(row.id, [])), fields)


def _severity(value: str) -> str:
    mapped = carrier_desk_severity(value)
    if mapped is None:
        raise field_error(
            "severity", f"{value!r} is not in the mapping table ({', '.join(KNOWN_SEVERITIES)})"
        )
    return mapped


def _ticket_create(caller: Caller, payload: TroubleTicketCreate) -> TicketCreate:
    severity = _severity(payload.severity)
    enterprise_id: uuid.UUID | None = None
    contact_name = caller.name
    for party in payload.relatedParty:
        kind = (party.referred_type or "").lower()
        role = (party.role or "").lower()
        if kind == "organization" and party.id:
            try:
                enterprise_id = uuid.UUID(party.id)
            except ValueError:
                raise field_error(
                    "relatedParty.id", "an Organization is an enterprise id"
                ) from None
        elif (kind == "individual" or role in ("reporter", "contact", "originator")) and party.name:
            contact_name = party.name
    service: dict[str, Any] = {}
    for entity in payload.relatedEntity:
        if (entity.referred_type or "").lower() == "service" or (entity.role or "").lower() in (
            "affectedservice",
            "service",
        ):
            ref = entity.id or entity.name
            if ref:
                try:
                    service = {"service_id": uuid.UUID(ref)}
                except ValueError:
                    service = {"service_code": ref}
                break
    if not service:
        raise field_error("relatedEntity", "name the affected service (@referredType Service)")
    try:
        return TicketCreate(
            enterprise_id=enterprise_id,
            severity=severity,
            summary=payload.name or payload.description[:200],
            description=payload.description,
            contact={"name": contact_name[:200]},
            external_id=payload.externalId,
            **service,
        )
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        raise Unprocessable("the ticket is not valid: " + str(errors), errors=errors) from None


async def _save_attributes(
    session: AsyncSession,
    ticket_id: uuid.UUID,
    enterprise_id: uuid.UUID,
    now: datetime,
    values: dict[str, Any],
) -> None:
    stmt = pg_insert(TmfTicketAttributes).values(
        ticket_id=ticket_id,
        enterprise_id=enterprise_id,
        ticket_type=values.get("ticket_type", "incident"),
        severity=values.get("severity", ""),
        priority=values.get("priority"),
        updated_at=now,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[TmfTicketAttributes.ticket_id],
            set_={**values, "updated_at": now},
        )
    )


async def create_ticket(
    session: AsyncSession, caller: Caller, clock: Clock, payload: TroubleTicketCreate
) -> dict[str, Any]:
    """Open the ticket through Carrier Desk's own intake, then keep TMF's free-text values."""
    created = await intake.open_ticket(
        session, caller, clock, None, _ticket_create(caller, payload)
    )
    await _save_attributes(
        session,
        created.id,
        created.enterprise_id,
        clock.now(),
        {
            "ticket_type": payload.ticketType,
            "severity": payload.severity,
            "priority": payload.priority,
        },
    )
    await session.commit()
    for note in payload.note:
        await workflow.add_note(session, caller, clock, created.id, TicketNoteIn(body=note.text))
    return await get_ticket(session, caller, str(created.id))


async def patch_ticket(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    ticket_id: str,
    payload: TroubleTicketUpdate,
) -> dict[str, Any]:
    current = await get_ticket(session, caller, ticket_id)
    key = uuid.UUID(current["id"])
    if payload.status is not None and payload.status != current["status"]:
        raise Forbidden("status is moved by the provider's Technical Service Center")
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    own: dict[str, Any] = {}
    if "severity" in changes:
        own["severity"] = _severity(payload.severity or "")
    if "description" in changes:
        own["description"] = payload.description
    if own:
        await workflow.update_ticket(session, caller, clock, key, TicketUpdate(**own), None)
    tmf: dict[str, Any] = {}
    columns = {"ticketType": "ticket_type", "severity": "severity", "priority": "priority"}
    for attribute, column in columns.items():
        if attribute in changes:
            tmf[column] = changes[attribute]
    if tmf:
        now = clock.now()
        enterprise_id = uuid.UUID(current["relatedParty"][0]["id"])
        base = {"ticket_type": current["ticketType"], "severity": current["severity"]}
        await _save_attributes(session, key, enterprise_id, now, {**base, **tmf})
        if set(tmf) - {"severity"}:  # a severity change was recorded by the ticket itself
            await record_event(
                session,
                subject_type="ticket",
                subject_id=key,
                type="ticket.updated",
                at=now,
                actor=caller.actor,
                enterprise_id=enterprise_id,
                data={
                    "changes": {k: v for k, v in changes.items() if k != "note"},
                    "via": "tmf621",
                },
            )
        await session.commit()
    for note in payload.note or []:
        await workflow.add_note(session, caller, clock, key, TicketNoteIn(body=note.text))
    return await get_ticket(session, caller, ticket_id)


async def register_hub(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    settings: Settings,
    payload: EventSubscriptionInput,
) -> EventSubscription:
    enterprise_id = caller.acting_enterprise(None)
    try:
        await check_url(payload.callback, allow_private=settings.webhook_allow_private)
    except AddressRefused as exc:
        raise field_error("callback", str(exc)) from None
    now = clock.now()
    hub = WebhookEndpoint(
        id=uuid.uuid4(),
        enterprise_id=enterprise_id,
        kind="tmf621",
        url=payload.callback,
        events=hub_event_types(payload.query),
        description=payload.query,
        secret=new_webhook_secret(),
        status="active",
        created_by=caller.actor,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(hub)
    await session.commit()
    return EventSubscription(id=str(hub.id), callback=hub.url, query=payload.query)


async def unregister_hub(session: AsyncSession, caller: Caller, clock: Clock, hub_id: str) -> None:
    try:
        key = uuid.UUID(hub_id)
    except ValueError:
        raise NotFound(f"hub {hub_id} not found") from None
    hub = (
        await session.execute(
            visible_to(select(WebhookEndpoint), caller, WebhookEndpoint.enterprise_id)
            .where(
                WebhookEndpoint.id == key,
                WebhookEndpoint.kind == "tmf621",
                WebhookEndpoint.status != "deleted",
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if hub is None:
        raise NotFound(f"hub {hub_id} not found")
    hub.status = "deleted"
    hub.updated_at = clock.now()
    hub.version += 1
    await session.commit()
