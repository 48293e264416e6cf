"""What a customer and the TSC add to a ticket without moving it: notes and escalations.

One transaction each, through the same lock and answer as the stage moves (`tickets.workflow`).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.deps import refuse_unless
from app.core.errors import Conflict
from app.core.idempotency import IdempotencyClaim
from app.core.tenancy import Caller
from app.services.tickets.directory import escalation_contacts
from app.services.tickets.events import TicketEscalated, TicketNoteAdded
from app.services.tickets.policy import ROLES
from app.services.tickets.rules import MAX_ESCALATION_LEVEL
from app.services.tickets.schemas import EscalationIn, NoteIn, NoteVisibility, TicketRead
from app.services.tickets.workflow import _answer_with, _lock, _still_open, _touch


async def add_note(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    ticket_id: uuid.UUID,
    payload: NoteIn,
    *,
    claim: IdempotencyClaim | None = None,
) -> TicketRead:
    """A note in the history: customer-visible, or internal (staff only)."""
    ticket = await _lock(session, caller, ticket_id)
    if payload.visibility is NoteVisibility.internal:
        refuse_unless(caller, ROLES["write_internal_notes"], "write internal notes")
    now = clock.now()
    await _touch(session, ticket, now)
    note = TicketNoteAdded(number=ticket.number, visibility=payload.visibility, body=payload.body)
    return await _answer_with(session, caller, ticket, note, now, claim)


async def escalate_ticket(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    ticket_id: uuid.UUID,
    payload: EscalationIn,
    *,
    claim: IdempotencyClaim | None = None,
) -> TicketRead:
    """The customer asks to escalate: one level up, recorded and notified."""
    ticket = await _lock(session, caller, ticket_id)
    _still_open(ticket)
    if ticket.escalation_level >= MAX_ESCALATION_LEVEL:
        raise Conflict(f"ticket {ticket.number} is already at the highest escalation level")
    now = clock.now()
    level = ticket.escalation_level + 1
    contacts = await escalation_contacts(session, ticket.country, level, now)
    await _touch(session, ticket, now, escalation_level=level)
    escalated = TicketEscalated(
        number=ticket.number,
        level=level,
        reason=payload.reason,
        requested_by="customer" if not caller.is_provider else "provider",
        stage=ticket.stage,
        escalation=contacts,
    )
    return await _answer_with(session, caller, ticket, escalated, now, claim)
