"""Billing requests: types, lifecycle and the deadlines the handbooks give them."""

from __future__ import annotations

from enum import StrEnum


class BillingType(StrEnum):
    inquiry = "inquiry"
    dispute = "dispute"
    balance = "balance"
    payment = "payment"
    billing_data_change = "billing_data_change"
    invoice_reference = "invoice_reference"


class BillingStatus(StrEnum):
    received = "received"
    acknowledged = "acknowledged"
    in_review = "in_review"
    resolved = "resolved"
    rejected = "rejected"


ACK_BUSINESS_HOURS = 48  # seed 003: "PT48H business hours"

OPEN_STATUSES = frozenset(
    {BillingStatus.received, BillingStatus.acknowledged, BillingStatus.in_review}
)
# received -> acknowledged -> in_review; resolve ends it from any open status.
BILLING_TRANSITIONS: dict[BillingStatus, frozenset[BillingStatus]] = {
    BillingStatus.received: frozenset({BillingStatus.acknowledged}),
    BillingStatus.acknowledged: frozenset({BillingStatus.in_review}),
    BillingStatus.in_review: frozenset(),
    BillingStatus.resolved: frozenset(),
    BillingStatus.rejected: frozenset(),
}


def mailbox_for(mailboxes: dict[str, list[str]], country: str) -> str | None:
    """The PO/HES/MIGO mailbox serving a country (`billing_mailboxes` in the data)."""
    for address, countries in mailboxes.items():
        if country.upper() in countries:
            return address
    return None
