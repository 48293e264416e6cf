"""The events of a change request."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from app.core.event_registry import EventPayload, registered
from app.services.changes.rules import ChangeStatus


class ChangeEvent(StrEnum):
    received = "change.received"
    referred = "change.referred"
    analysed = "change.analysed"
    scheduled = "change.scheduled"
    completed = "change.completed"
    rejected = "change.rejected"
    cancelled = "change.cancelled"


class ChangeSnapshot(EventPayload):
    """What every change event carries: the request as it stands after the event."""

    subject_type: ClassVar[str] = "change_request"

    catalog_item: str | None
    standard: bool
    status: str
    service_ids: list[uuid.UUID]
    analysis_due_at: datetime | None
    routed_to: dict[str, Any] | None


class ChangeNoted(ChangeSnapshot):
    """A move that may carry a note; the customer sees it."""

    note: str = ""


@registered
class ChangeReceived(ChangeSnapshot):
    event_type: ClassVar[str] = ChangeEvent.received


@registered
class ChangeReferred(ChangeSnapshot):
    event_type: ClassVar[str] = ChangeEvent.referred


@registered
class ChangeAnalysed(ChangeNoted):
    event_type: ClassVar[str] = ChangeEvent.analysed


@registered
class ChangeScheduled(ChangeSnapshot):
    event_type: ClassVar[str] = ChangeEvent.scheduled
    start: datetime
    end: datetime


@registered
class ChangeCompleted(ChangeNoted):
    event_type: ClassVar[str] = ChangeEvent.completed


@registered
class ChangeRejected(ChangeNoted):
    event_type: ClassVar[str] = ChangeEvent.rejected


@registered
class ChangeCancelled(ChangeNoted):
    event_type: ClassVar[str] = ChangeEvent.cancelled


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
