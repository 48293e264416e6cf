"""What each ticket event carries, and what of it the customer sees.

Staff-only, decided as the Technical Service Center would:
- an internal note is for staff as a whole event (its body, and that one was written);
- the SLA engine's bookkeeping: the clock row's id, how late the engine recorded a breach,
  whether it was recorded at the stage's end. The customer sees the breach and its due time.
Everything else a ticket event carries is the customer's to see: the escalation matrix and
after-hours line are published to customers, the hold reason is on the ticket itself, and a
stage note is written for the customer (it is mailed to them).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from app.core.event_registry import STAFF_ONLY, EventPayload
from app.services.directory.rules import PhoneNumber
from app.services.tickets.rules import CityTier, Severity, Stage
from app.services.tickets.schemas import NoteVisibility


class TicketEventType(StrEnum):
    created = "ticket.created"
    updated = "ticket.updated"
    stage_changed = "ticket.stage_changed"
    held = "ticket.held"
    resumed = "ticket.resumed"
    note_added = "ticket.note_added"
    escalated = "ticket.escalated"
    closed = "ticket.closed"
    cancelled = "ticket.cancelled"
    sla_warning = "sla.warning"
    sla_breached = "sla.breached"


class TicketEvent(EventPayload, subject_type="ticket"):
    """Every ticket event names its ticket by number."""

    number: str


ClockId = Annotated[int | None, STAFF_ONLY]


class TicketCreated(TicketEvent, event_type=TicketEventType.created):
    severity: Severity
    stage: Stage
    city_tier: CityTier
    external_id: str | None
    due_at: datetime | None


class TicketUpdated(TicketEvent, event_type=TicketEventType.updated):
    changes: dict[str, Any] = Field(description="The fields changed, with their new values")
    via: Literal["tmf621"] | None = None


class TicketMove(TicketEvent):
    """A move between stages: the clock of the stage left ends, the next one starts."""

    from_: Stage = Field(alias="from")
    to: Stage
    note: str | None
    previous_clock: str | None = Field(description="met | breached; null without a clock")
    due_at: datetime | None


class TicketStageChanged(TicketMove, event_type=TicketEventType.stage_changed):
    eta: datetime | None = None


class TicketClosed(TicketMove, event_type=TicketEventType.closed):
    time_of_impact: str = Field(description="ISO 8601 duration, the customer's waiting left out")


class TicketCancelled(TicketMove, event_type=TicketEventType.cancelled): ...


class TicketHeld(TicketEvent, event_type=TicketEventType.held):
    reason: str
    stage: Stage


class TicketResumed(TicketEvent, event_type=TicketEventType.resumed):
    stage: Stage
    paused_seconds: float
    due_at: datetime | None
    note: str | None


class TicketNoteAdded(TicketEvent, event_type=TicketEventType.note_added):
    visibility: NoteVisibility
    body: str

    def for_customer(self) -> dict[str, Any] | None:
        if self.visibility is NoteVisibility.internal:
            return None  # the whole event: not even that a note was written
        return super().for_customer()


class EscalationContacts(BaseModel):
    """Whom an escalation names: the matrix level's phones, and after hours the night line."""

    level: int
    matrix_level: int
    role: str
    phones: list[PhoneNumber]
    fallback: bool
    office_hours: bool
    after_hours: PhoneNumber | None


class TicketEscalated(TicketEvent, event_type=TicketEventType.escalated):
    level: int
    reason: str
    requested_by: Literal["customer", "provider", "sla"]
    stage: Stage
    escalation: EscalationContacts
    clock_id: ClockId = None


class SlaEvent(TicketEvent):
    """A stage clock passed a threshold: the warning share of its target, or its due time."""

    stage: Stage
    due_at: datetime | None
    clock_id: ClockId = None


class SlaWarning(SlaEvent, event_type=TicketEventType.sla_warning):
    warning_ratio: float


class SlaBreached(SlaEvent, event_type=TicketEventType.sla_breached):
    lag_seconds: Annotated[float | None, STAFF_ONLY] = None
    recorded_at_stage_end: Annotated[bool, STAFF_ONLY] = False
