"""The events of a billing request: what each carries, and what a customer may not see."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel

from app.core.event_registry import STAFF_ONLY, EventPayload, registered
from app.services.billing.rules import BillingStatus


class BillingEvent(StrEnum):
    received = "billing.received"
    acknowledged = "billing.acknowledged"
    in_review = "billing.in_review"
    resolved = "billing.resolved"
    rejected = "billing.rejected"
    credit_issued = "billing.credit_issued"


class BillingSnapshot(EventPayload):
    """What every billing event carries: the request as it stands after the event."""

    subject_type: ClassVar[str] = "billing_request"

    type: str
    subject: str
    status: str
    ack_due_at: datetime
    effective_invoice: str | None
    route_to: str | None


@registered
class BillingReceived(BillingSnapshot):
    event_type: ClassVar[str] = BillingEvent.received


class BillingWorked(BillingSnapshot):
    """A step of the billing desk: its working note is for the desk, not the customer."""

    note: Annotated[str, STAFF_ONLY] = ""


class BillingAnswered(BillingSnapshot):
    """A request's end: the note is the customer's answer (also `resolution_note` on the
    request)."""

    note: str = ""


@registered
class BillingAcknowledged(BillingWorked):
    event_type: ClassVar[str] = BillingEvent.acknowledged


@registered
class BillingInReview(BillingWorked):
    event_type: ClassVar[str] = BillingEvent.in_review


@registered
class BillingResolved(BillingAnswered):
    event_type: ClassVar[str] = BillingEvent.resolved


@registered
class BillingRejected(BillingAnswered):
    event_type: ClassVar[str] = BillingEvent.rejected


class Credit(BaseModel):
    amount: str  # in the currency's minor units, e.g. "150.25"
    currency: str


@registered
class BillingCreditIssued(BillingSnapshot):
    event_type: ClassVar[str] = BillingEvent.credit_issued
    credit: Credit


# The event of entering each status.
ENTERED: dict[BillingStatus, type[BillingSnapshot]] = {
    BillingStatus.received: BillingReceived,
    BillingStatus.acknowledged: BillingAcknowledged,
    BillingStatus.in_review: BillingInReview,
    BillingStatus.resolved: BillingResolved,
    BillingStatus.rejected: BillingRejected,
}
