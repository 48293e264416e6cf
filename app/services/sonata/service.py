"""Sonata writes: a buyer opens, patches, cancels, closes and reopens tickets through Carrier
Desk's own ticket use cases, and registers hubs. Mapping tables: `rules.py`."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

from pydantic import RootModel, ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import Conflict, Unprocessable, field_error
from app.core.events import record_event
from app.core.idempotency import IdempotencyClaim, commit_creation
from app.core.roles import Role
from app.core.tenancy import Caller, visible_to
from app.models import SonataTicketAttributes
from app.services.sonata import reads
from app.services.sonata.reads import acting_buyer
from app.services.sonata.rules import (
    CONTACT_FIELDS,
    SEVERITY_OF,
    TASK_FROM,
    SonataStatus,
    task_allowed,
)
from app.services.sonata.schemas import (
    SonataRelatedContactInformation,
    SonataTroubleTicketCreate,
    SonataTroubleTicketUpdate,
)
from app.services.tickets.events import TicketNoteAdded
from app.services.tickets.rules import Channel, Severity, Stage
from app.services.tickets.schemas import NoteIn as TicketNoteIn
from app.services.tickets.schemas import NoteVisibility, TicketCreate, TicketUpdate, TransitionIn
from app.services.tickets.service import add_note, move_ticket, open_ticket, update_ticket

HUB_KIND = "sonata"


# The columns of `SonataTicketAttributes` a ticket's Sonata values are kept in.
KEPT = (
    "ticket_type",
    "priority",
    "severity",
    "observed_impact",
    "contacts",
    "issue_start_date",
    "reopened_stage",
)


def _contact(contacts: list[SonataRelatedContactInformation]) -> dict[str, Any]:
    """The ticket's contact: the first `relatedContactInformation` (the reporter)."""
    first = contacts[0].model_dump()
    return {ours: first[theirs] for theirs, ours in CONTACT_FIELDS.items() if first.get(theirs)}


def _invalid(exc: ValidationError, paths: dict[str, str]) -> Unprocessable:
    """Our own ticket's validation, told in the buyer's attribute names."""
    errors = []
    for e in exc.errors():
        ours = ".".join(str(p) for p in e["loc"])
        errors.append({"field": paths.get(ours, ours), "message": e["msg"]})
    return Unprocessable("the ticket is not valid: " + str(errors), errors=errors)


_PATHS = {
    "contact.email": "relatedContactInformation.0.emailAddress",
    "contact.phone": "relatedContactInformation.0.number",
    "contact.name": "relatedContactInformation.0.name",
    "description": "description",
    "external_id": "externalId",
}


def _ticket_create(buyer: uuid.UUID, payload: SonataTroubleTicketCreate) -> TicketCreate:
    product = payload.relatedEntity[0].id
    try:
        service: dict[str, Any] = {"service_id": uuid.UUID(product)}
    except ValueError:
        service = {"service_code": product}
    try:
        return TicketCreate(
            enterprise_id=buyer,
            severity=Severity(SEVERITY_OF[payload.severity]),
            summary=payload.description.splitlines()[0][:200],
            description=payload.description,
            contact=_contact(payload.relatedContactInformation),
            external_id=payload.externalId,
            **service,
        )
    except ValidationError as exc:
        raise _invalid(exc, _PATHS) from None


async def _save_attributes(
    session: AsyncSession,
    ticket_id: uuid.UUID,
    enterprise_id: uuid.UUID,
    now: datetime,
    values: dict[str, Any],
) -> None:
    stmt = pg_insert(SonataTicketAttributes).values(
        ticket_id=ticket_id, enterprise_id=enterprise_id, updated_at=now, **values
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[SonataTicketAttributes.enterprise_id, SonataTicketAttributes.ticket_id],
            set_={**values, "updated_at": now},
        )
    )


def _contacts(contacts: list[SonataRelatedContactInformation]) -> list[dict[str, Any]]:
    return [c.model_dump(exclude_none=True) for c in contacts]


async def create_ticket(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    payload: SonataTroubleTicketCreate,
    buyer: uuid.UUID | None,
) -> dict[str, Any]:
    """Open the ticket through Carrier Desk's intake, keep the buyer's Sonata values and its
    notes, and commit once with the answer kept for the `Idempotency-Key`."""
    enterprise_id = acting_buyer(caller, buyer)
    try:
        created = await open_ticket(
            session,
            caller,
            clock,
            None,
            _ticket_create(enterprise_id, payload),
            commit=False,
            face=Channel.sonata,
        )
    except Unprocessable as exc:
        if any(e.get("field") in ("service_id", "service_code") for e in exc.errors or ()):
            raise field_error("relatedEntity.0.id", "no such product of the buyer") from None
        raise
    now = clock.now()
    await _save_attributes(
        session,
        created.id,
        created.enterprise_id,
        now,
        {
            "ticket_type": payload.ticketType.value,
            "priority": payload.priority.value,
            "severity": payload.severity.value,
            "observed_impact": payload.observedImpact.value,
            "contacts": _contacts(payload.relatedContactInformation),
            "issue_start_date": payload.issueStartDate,
            "reopened_stage": None,
        },
    )
    for note in payload.note:
        # The same event a note added later records; written here so that the ticket, its
        # notes and the kept answer commit together.
        added = TicketNoteAdded(
            number=created.number, visibility=NoteVisibility.public, body=note.text
        )
        await record_event(
            session,
            added,
            subject_id=created.id,
            at=now,
            actor=caller.actor,
            enterprise_id=created.enterprise_id,
        )
    await session.flush()
    answer = await reads.get_ticket(session, caller, str(created.id))
    await commit_creation(
        session, claim, RootModel[dict[str, Any]](answer), headers={"Location": answer["href"]}
    )
    return answer


async def _attributes(
    session: AsyncSession, enterprise_id: uuid.UUID, ticket_id: uuid.UUID, current: dict[str, Any]
) -> dict[str, Any]:
    """The Sonata attributes kept for a ticket the calling use case has just read in the
    caller's scope; for a ticket opened elsewhere, the values its representation shows."""
    row = await session.get(SonataTicketAttributes, (enterprise_id, ticket_id))
    if row is None:
        return {
            "ticket_type": current["ticketType"],
            "priority": current["priority"],
            "severity": current["severity"],
            "observed_impact": current["observedImpact"],
            "contacts": current["relatedContactInformation"],
            "issue_start_date": None,  # shown as the ticket's reported time until one is given
            "reopened_stage": None,
        }
    return {c: getattr(row, c) for c in KEPT}


async def patch_ticket(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    ticket_id: str,
    payload: SonataTroubleTicketUpdate,
    buyer: uuid.UUID | None,
) -> dict[str, Any]:
    """The buyer's changes: severity re-rates the ticket (a ticket update), contacts change
    its contact, the rest are kept as Sonata attributes; notes are added."""
    current = await reads.get_ticket(session, caller, ticket_id, buyer)
    if current["status"] in (SonataStatus.closed, SonataStatus.cancelled):
        raise Conflict(f"troubleTicket {ticket_id} is {current['status']}")
    key = uuid.UUID(current["id"])
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    own: dict[str, Any] = {}
    if payload.severity is not None:
        own["severity"] = Severity(SEVERITY_OF[payload.severity])
    if payload.relatedContactInformation is not None:
        own["contact"] = _contact(payload.relatedContactInformation)
    if own:
        try:
            update = TicketUpdate(**own)
        except ValidationError as exc:
            raise _invalid(exc, _PATHS) from None
        await update_ticket(session, caller, clock, key, update, None)
    if payload.externalId is not None and payload.externalId != current.get("externalId"):
        raise field_error("externalId", "is the buyer's ticket number, set when it is created")
    enterprise_id = await _enterprise_of(session, caller, key)
    sonata = await _attributes(session, enterprise_id, key, current)
    columns = {
        "priority": "priority",
        "severity": "severity",
        "observedImpact": "observed_impact",
        "issueStartDate": "issue_start_date",
    }
    kept = {column: getattr(payload, attr) for attr, column in columns.items() if attr in changes}
    kept = {k: v.value if hasattr(v, "value") else v for k, v in kept.items()}
    if payload.relatedContactInformation is not None:
        kept["contacts"] = _contacts(payload.relatedContactInformation)
    if kept:
        await _save_attributes(session, key, enterprise_id, clock.now(), {**sonata, **kept})
        await session.commit()
    for note in payload.note or []:
        await add_note(session, caller, clock, key, TicketNoteIn(body=note.text))
    return await reads.get_ticket(session, caller, ticket_id, buyer)


async def _enterprise_of(session: AsyncSession, caller: Caller, ticket_id: uuid.UUID) -> uuid.UUID:
    from app.models import Ticket

    stmt = visible_to(select(Ticket.enterprise_id), caller, Ticket.enterprise_id)
    enterprise_id: uuid.UUID = (
        await session.execute(stmt.where(Ticket.id == ticket_id))
    ).scalar_one()
    return enterprise_id


def _on_behalf(caller: Caller) -> Caller:
    """The buyer's task carried out by the seller's workflow, whose stage moves are staff
    moves: staff rights, used only on a ticket just found in the buyer's own scope; the buyer
    is still the actor the history names."""
    return dataclasses.replace(caller, role=Role.tsc_engineer)


async def _task(
    session: AsyncSession, caller: Caller, ticket_id: str, task: str, buyer: uuid.UUID | None
) -> tuple[uuid.UUID, dict[str, Any]]:
    current = await reads.get_ticket(session, caller, ticket_id, buyer)
    status = SonataStatus(current["status"])
    if not task_allowed(task, status):
        allowed = ", ".join(sorted(s.value for s in TASK_FROM[task]))
        raise Conflict(
            f"troubleTicket {ticket_id} is {status.value}; {task} applies to a ticket that is "
            f"{allowed}"
        )
    return uuid.UUID(current["id"]), current


async def _stage_of(session: AsyncSession, caller: Caller, ticket_id: uuid.UUID) -> Stage:
    from app.models import Ticket

    stmt = visible_to(select(Ticket.stage), caller, Ticket.enterprise_id)
    return Stage((await session.execute(stmt.where(Ticket.id == ticket_id))).scalar_one())


async def cancel_ticket(
    session: AsyncSession, caller: Caller, clock: Clock, ticket_id: str, buyer: uuid.UUID | None
) -> None:
    key, _ = await _task(session, caller, ticket_id, "cancel", buyer)
    note = "Cancelled by the buyer"
    await move_ticket(
        session, _on_behalf(caller), clock, key, TransitionIn(to=Stage.cancelled, note=note)
    )


async def close_ticket(
    session: AsyncSession, caller: Caller, clock: Clock, ticket_id: str, buyer: uuid.UUID | None
) -> None:
    """The buyer confirms the resolution: the ticket walks on to closed."""
    key, _ = await _task(session, caller, ticket_id, "close", buyer)
    stage = await _stage_of(session, caller, key)
    walk = {
        Stage.verification: [Stage.stability, Stage.closure, Stage.closed],
        Stage.stability: [Stage.closure, Stage.closed],
        Stage.closure: [Stage.closed],
    }
    staff = _on_behalf(caller)
    for step in walk[stage]:
        note = "The buyer confirmed the resolution" if step is Stage.closed else None
        await move_ticket(session, staff, clock, key, TransitionIn(to=step, note=note))


async def reopen_ticket(
    session: AsyncSession, caller: Caller, clock: Clock, ticket_id: str, buyer: uuid.UUID | None
) -> None:
    """The buyer still observes the issue: the ticket is `reopened` while it stays in its stage,
    and the Technical Service Center reads why in a note."""
    key, current = await _task(session, caller, ticket_id, "reopen", buyer)
    stage = await _stage_of(session, caller, key)
    enterprise_id = await _enterprise_of(session, caller, key)
    attributes = {
        **(await _attributes(session, enterprise_id, key, current)),
        "reopened_stage": stage.value,
    }
    await _save_attributes(session, key, enterprise_id, clock.now(), attributes)
    body = "Reopened by the buyer: the issue is still observed"
    await add_note(session, caller, clock, key, TicketNoteIn(body=body))
