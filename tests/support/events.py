"""Ticket event payloads for tests that record an event directly (not through a use case)."""

from __future__ import annotations

from collections.abc import Callable

from app.services.tickets.events import (
    TicketClosed,
    TicketCreated,
    TicketEvent,
    TicketEventType,
    TicketStageChanged,
    TicketUpdated,
)
from app.services.tickets.rules import CityTier, Severity, Stage

_SAMPLES: dict[str, Callable[[str], TicketEvent]] = {
    TicketEventType.created: lambda number: TicketCreated(
        number=number,
        severity=Severity.major,
        stage=Stage.reception,
        city_tier=CityTier.main,
        external_id=None,
        due_at=None,
    ),
    TicketEventType.updated: lambda number: TicketUpdated(
        number=number, changes={"severity": "minor"}
    ),
    TicketEventType.stage_changed: lambda number: TicketStageChanged(
        number=number,
        from_=Stage.reception,
        to=Stage.registration,
        note=None,
        previous_clock="met",
        due_at=None,
    ),
    TicketEventType.closed: lambda number: TicketClosed(
        number=number,
        from_=Stage.closure,
        to=Stage.closed,
        note=None,
        previous_clock="met",
        due_at=None,
        time_of_impact="PT1H",
    ),
}


def ticket_event(type: str = TicketEventType.created, number: str = "TT-TEST") -> TicketEvent:
    """A valid payload of a ticket event type, naming ticket `number`."""
    return _SAMPLES[type](number)
