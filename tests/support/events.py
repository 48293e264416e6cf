"""Event payloads for tests that record an event directly (not through a use case)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from app.services.billing.events import ENTERED, BillingSnapshot
from app.services.billing.rules import BillingStatus
from app.services.maintenance.events import MaintenanceAnnounced
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


def maintenance_notice(
    gcr_number: str,
    start: datetime,
    *,
    kind: str = "emergency",
    reason: str = "",
    expected_impact: str = "outage",
) -> MaintenanceAnnounced:
    """The notice one impacted enterprise receives, as the maintenance feature writes it."""
    return MaintenanceAnnounced(
        gcr_number=gcr_number,
        kind=kind,
        emergency=kind == "emergency",
        status="scheduled",
        start=start,
        end=start + timedelta(hours=2),
        expected_impact=expected_impact,
        reason=reason,
        service_ids=[],
        service_codes=[],
    )


def billing_event(
    entered: BillingStatus, subject: str = "Factura", at: datetime | None = None
) -> BillingSnapshot:
    """A billing request's event on entering `entered`, as the billing feature writes it."""
    return ENTERED[entered](
        type="inquiry",
        subject=subject,
        status=entered.value,
        ack_due_at=at or datetime(2026, 12, 3, 17, tzinfo=UTC),
        effective_invoice=None,
        route_to=None,
    )
