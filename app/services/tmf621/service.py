"""TMF621 writes: create and merge-patch tickets, register hubs. Reads: `reads`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.deps import SettingsDep
from app.core.errors import Forbidden, Unprocessable, field_error
from app.core.events import record_event
from app.core.idempotency import IdempotencyClaim, commit_creation, commit_new_row
from app.core.tenancy import Caller, one_or_404, visible_to
from app.models import TmfTicketAttributes, WebhookEndpoint
from app.services.delivery.webhooks import LookedUpDestination, look_up_destination, new_endpoint
from app.services.tickets import conversation, intake, workflow
from app.services.tickets.clocks import record_ticket_event
from app.services.tickets.events import TicketNoteAdded, TicketUpdated
from app.services.tickets.rules import Channel
from app.services.tickets.schemas import NoteIn as TicketNoteIn
from app.services.tickets.schemas import NoteVisibility, TicketCreate, TicketUpdate
from app.services.tmf621.reads import get_ticket, path_id
from app.services.tmf621.rules import KNOWN_SEVERITIES, carrier_desk_severity, hub_event_types
from app.services.tmf621.schemas import (
    EventSubscription,
    EventSubscriptionInput,
    TroubleTicket,
    TroubleTicketCreate,
    TroubleTicketUpdate,
)


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
        kind = party.referred_type.lower()
        role = (party.role or "").lower()
        if kind == "organization":
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
        if entity.referred_type.lower() == "service" or entity.role.lower() in (
            "affectedservice",
            "service",
        ):
            try:
                service = {"service_id": uuid.UUID(entity.id)}
            except ValueError:
                service = {"service_code": entity.id}
            break
    # No service named: the ticket opens without one and the TSC names it while registering.
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
            index_elements=[TmfTicketAttributes.enterprise_id, TmfTicketAttributes.ticket_id],
            set_={**values, "updated_at": now},
        )
    )


async def create_ticket(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    payload: TroubleTicketCreate,
) -> dict[str, Any]:
    """Open the ticket through Carrier Desk's own intake, keep TMF's free-text values and add
    its notes, in one transaction with the `Idempotency-Key` answer: a hub never sees the
    ticket without its `ticketType`, and a retry gets this first answer."""
    created = await intake.open_ticket(
        session,
        caller,
        clock,
        None,
        _ticket_create(caller, payload),
        commit=False,
        face=Channel.tmf621,
    )
    now = clock.now()
    await _save_attributes(
        session,
        created.id,
        created.enterprise_id,
        now,
        {
            "ticket_type": payload.ticketType,
            "severity": payload.severity,
            "priority": payload.priority,
        },
    )
    for note in payload.note:
        added = TicketNoteAdded(
            number=created.number, visibility=NoteVisibility.public, body=note.text
        )
        await record_ticket_event(
            session, added, created.id, created.enterprise_id, now, caller.actor
        )
    await session.flush()
    ticket = await get_ticket(session, caller, str(created.id))
    answer = TroubleTicket.model_validate(ticket)
    await commit_creation(session, claim, answer, headers={"Location": ticket["href"]})
    return ticket


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
            updated = TicketUpdated(
                number=_number_of(current),
                changes={k: v for k, v in changes.items() if k != "note"},
                via="tmf621",
            )
            await record_event(
                session,
                updated,
                subject_id=key,
                at=now,
                actor=caller.actor,
                enterprise_id=enterprise_id,
            )
        await session.commit()
    for note in payload.note or []:
        await conversation.add_note(session, caller, clock, key, TicketNoteIn(body=note.text))
    return await get_ticket(session, caller, ticket_id)


def _number_of(ticket: dict[str, Any]) -> str:
    """The Carrier Desk number a TroubleTicket carries as its `number` characteristic."""
    return next(
        str(c["value"]) for c in ticket["troubleTicketCharacteristic"] if c["name"] == "number"
    )


async def checked_hub_callback(
    payload: EventSubscriptionInput, settings: SettingsDep
) -> LookedUpDestination:
    return await look_up_destination(payload.callback, settings)


# Declared before the route's `claim: Idempotency`, which opens the transaction.
CheckedHubCallback = Annotated[LookedUpDestination, Depends(checked_hub_callback)]


async def register_hub(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    payload: EventSubscriptionInput,
    callback: LookedUpDestination,
) -> EventSubscription:
    """Register `payload`, its callback already checked (`CheckedHubCallback`)."""
    enterprise_id = caller.acting_enterprise(None)
    url = callback.accepted("callback")
    now = clock.now()
    hub = new_endpoint(
        caller,
        now,
        enterprise_id=enterprise_id,
        kind="tmf621",
        url=url,
        events=hub_event_types(payload.query),
        description=payload.query,
    )
    return await commit_new_row(
        session,
        claim,
        hub,
        lambda row: EventSubscription(id=str(row.id), callback=row.url, query=payload.query),
    )


async def unregister_hub(session: AsyncSession, caller: Caller, clock: Clock, hub_id: str) -> None:
    key = path_id(hub_id, "hub")
    stmt = visible_to(select(WebhookEndpoint), caller, WebhookEndpoint.enterprise_id).where(
        WebhookEndpoint.id == key,
        WebhookEndpoint.kind == "tmf621",
        WebhookEndpoint.status != "deleted",
    )
    hub = await one_or_404(session, stmt, "hub", hub_id, lock=True)
    hub.status = "deleted"
    hub.updated_at = clock.now()
    hub.version += 1
    await session.commit()
