"""The events of a change request."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from app.core.event_registry import EventPayload
from app.services.changes.rules import ChangeStatus


class ChangeEvent(StrEnum):
    received = "change.received"
    referred = "change.referred"
    analysed = "change.analysed"
    scheduled = "change.scheduled"
    completed = "change.completed"
    rejected = "change.rejected"
    cancelled = "change.cancelled"


class ChangeSnapshot(EventPayload, subject_type="change_request"):
    """What every change event carries: the request as it stands after the event."""

    catalog_item: str | None
    standard: bool
    status: str
    service_ids: list[uuid.UUID]
    analysis_due_at: datetime | None
    routed_to: dict[str, Any] | None


class ChangeNoted(ChangeSnapshot):
    """A move that may carry a note; the customer sees it."""

    note: str = ""


class ChangeReceived(ChangeSnapshot, event_type=ChangeEvent.received): ...


class ChangeReferred(ChangeSnapshot, event_type=ChangeEvent.referred): ...


class ChangeAnalysed(ChangeNoted, event_type=ChangeEvent.analysed): ...


class ChangeScheduled(ChangeSnapshot, event_type=ChangeEvent.scheduled):
    start: datetime
    end: datetime


class ChangeCompleted(ChangeNoted, event_type=ChangeEvent.completed): ...


class ChangeRejected(ChangeNoted, event_type=ChangeEvent.rejected): ...


class ChangeCancelled(ChangeNoted, event_type=ChangeEvent.cancelled): ...


# The event of entering each status.
ENTERED: dict[ChangeStatus, type[ChangeSnapshot]] = {
    ChangeStatus.received: ChangeReceived,
    ChangeStatus.referred: ChangeReferred,
    ChangeStatus.analysed: ChangeAnalysed,
    ChangeStatus.scheduled: ChangeScheduled,
    ChangeStatus.completed: ChangeCompleted,
    ChangeStatus.rejected: ChangeRejected,
    ChangeStatus.cancelled: ChangeCancelled,
}
