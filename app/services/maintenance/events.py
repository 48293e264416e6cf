"""The events of a planned maintenance (GCR); each is written for one impacted enterprise.

`maintenance.completed` was registered once and never recorded: a maintenance has no
`completed` status, its end is in every notice and in the calendar feed, and nothing in
Carrier Desk learns that the work really ended (a window passing is not the work done). It
is gone until a use case records the work's end.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from app.core.event_registry import EventPayload


class MaintenanceEvent(StrEnum):
    announced = "maintenance.announced"
    updated = "maintenance.updated"
    cancelled = "maintenance.cancelled"
    acknowledged = "maintenance.acknowledged"


class MaintenancePayload(EventPayload, subject_type="maintenance"):
    gcr_number: str


class MaintenanceNotice(MaintenancePayload):
    """The notice an impacted enterprise receives: the work, and its own services only."""

    kind: str
    emergency: bool
    status: str
    start: datetime
    end: datetime
    expected_impact: str
    reason: str
    service_ids: list[uuid.UUID]
    service_codes: list[str]


class MaintenanceAnnounced(MaintenanceNotice, event_type=MaintenanceEvent.announced): ...


class MaintenanceUpdated(MaintenanceNotice, event_type=MaintenanceEvent.updated):
    changed: list[str]


class MaintenanceCancelled(MaintenanceNotice, event_type=MaintenanceEvent.cancelled):
    """`reason` is why the work is cancelled, or no longer touches this enterprise."""


class MaintenanceAcknowledged(MaintenancePayload, event_type=MaintenanceEvent.acknowledged): ...
