"""The events of a billing request: what each carries, and what a customer may not see."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel

from app.core.event_registry import STAFF_ONLY, EventPayload
from app.services.billing.rules import BillingStatus


class BillingEvent(StrEnum):
    received = "billing.received"
    acknowledged = "billing.acknowledged"
    in_review = "billing.in_review"
    resolved = "billing.resolved"
    rejected = "billing.rejected"
    credit_issued = "billing.credit_issued"
    note_added = "billing.note_added"


class BillingSnapshot(EventPayload, subject_type="billing_request"):
    """What every billing event carries: the request as it stands after the event."""

    type: str
    subject: str
    status: str
    ack_due_at: datetime
    effective_invoice: str | None
    route_to: str | None


class BillingReceived(BillingSnapshot, event_type=BillingEvent.received): ...


class BillingWorked(BillingSnapshot):
    """A step of the billing desk: its working note is for the desk, not the customer."""

    note: Annotated[str, STAFF_ONLY] = ""


class BillingAnswered(BillingSnapshot):
    """A request's end: the note is the customer's answer (also `resolution_note` on the
    request)."""

    note: str = ""


class BillingAcknowledged(BillingWorked, event_type=BillingEvent.acknowledged): ...


class BillingInReview(BillingWorked, event_type=BillingEvent.in_review): ...


class BillingResolved(BillingAnswered, event_type=BillingEvent.resolved): ...


class BillingRejected(BillingAnswered, event_type=BillingEvent.rejected): ...


class Credit(BaseModel):
    amount: str  # in the currency's minor units, e.g. "150.25"
    currency: str


class BillingCreditIssued(BillingSnapshot, event_type=BillingEvent.credit_issued):
    credit: Credit


class BillingNoteAdded(BillingSnapshot, event_type=BillingEvent.note_added):
    """A note from the customer on a request (a reply by mail): theirs, so they see it."""

    body: str


# The event of entering each status.
ENTERED: dict[BillingStatus, type[BillingSnapshot]] = {
    BillingStatus.received: BillingReceived,
    BillingStatus.acknowledged: BillingAcknowledged,
    BillingStatus.in_review: BillingInReview,
    BillingStatus.resolved: BillingResolved,
    BillingStatus.rejected: BillingRejected,
}
