"""The events of a network incident. Each is written for one affected enterprise and carries
that enterprise's own services and tickets only: the customer's projection of an incident
that spans tenants. Staff read every enterprise's events."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from app.core.event_registry import EventPayload


class IncidentEvent(StrEnum):
    declared = "incident.declared"
    updated = "incident.updated"
    resolved = "incident.resolved"


class IncidentPayload(EventPayload, subject_type="incident"):
    number: str


class IncidentNotice(IncidentPayload):
    """The incident as one affected enterprise sees it."""

    summary: str
    severity: str
    impact: str
    status: str
    started_at: datetime
    expected_end_at: datetime | None
    service_ids: list[uuid.UUID]
    service_codes: list[str]
    ticket_ids: list[uuid.UUID]
    ticket_numbers: list[str]


class IncidentDeclared(IncidentNotice, event_type=IncidentEvent.declared):
    """The incident now affects this enterprise (declared, or a first service linked)."""


class IncidentUpdated(IncidentNotice, event_type=IncidentEvent.updated):
    changed: list[str]


class IncidentResolved(IncidentNotice, event_type=IncidentEvent.resolved):
    resolution: str
