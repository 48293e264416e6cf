"""Billing requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from app.core.events import UtcDateTime
from app.core.schemas import LongText, NonEmpty, RequestBody, ResponseBody
from app.core.workflow import MovesTo
from app.services.billing.rules import (
    BILLING_TRANSITIONS,
    RESOLUTIONS,
    BillingStatus,
    BillingType,
    is_currency,
    parse_amount,
)


class Channel(StrEnum):
    portal = "portal"
    email = "email"
    phone = "phone"


class BillingRequestCreate(RequestBody):
    enterprise_id: uuid.UUID | None = Field(
        default=None, description="Needed when the caller acts for several enterprises"
    )
    account_id: uuid.UUID | None = None
    type: BillingType
    subject: NonEmpty
    description: LongText = ""
    channel: Channel = Channel.portal
    received_at: UtcDateTime | None = Field(
        default=None,
        description="When the request reached the carrier (e.g. an e-mail that came in "
        "earlier); provider staff only, never in the future. Defaults to now.",
    )


class BillingTransition(RequestBody):
    to: Annotated[BillingStatus, MovesTo(BILLING_TRANSITIONS, exclude=RESOLUTIONS)]
    note: LongText = ""


def _amount(text: str) -> str:
    return str(parse_amount(text))


def _currency(code: str) -> str:
    if not is_currency(code):
        raise ValueError(f"{code} is not an ISO 4217 currency code")
    return code


class Money(RequestBody):
    amount: Annotated[str, Field(max_length=24), AfterValidator(_amount)] = Field(
        description='A decimal string, e.g. "150.25"; never a JSON number (no floats for money), '
        "and no finer than the currency's minor unit"
    )
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_currency)] = Field(
        description="ISO 4217 code"
    )


class MoneyRead(ResponseBody):
    amount: str = Field(
        description='A decimal string in the currency\'s minor units: "120.50" USD, "1000" JPY, '
        '"1.250" BHD'
    )
    currency: str


class BillingResolve(RequestBody):
    outcome: Literal["accepted", "rejected"]
    credit: Money | None = Field(default=None, description="Only with an accepted outcome")
    note: LongText = ""


class BillingRequestRead(ResponseBody):
    id: uuid.UUID
    enterprise_id: uuid.UUID
    account_id: uuid.UUID | None
    type: BillingType
    subject: str
    description: str
    channel: Channel
    status: BillingStatus
    received_at: datetime
    ack_due_at: datetime = Field(
        description="48 business hours after receipt on the enterprise country's calendar"
    )
    acknowledged_at: datetime | None
    effective_invoice: str | None = Field(
        description="YYYY-MM, for billing_data_change and invoice_reference: asked on days "
        "1-15 of a month (local time), the next month's invoice; from the 16th, the month "
        "after. The handbooks name the 15th in both ranges; Carrier Desk counts it in the "
        "first half."
    )
    route_to: str | None = Field(
        description="For invoice_reference (PO/HES/MIGO): the country's billing mailbox"
    )
    outcome: str | None
    resolution_note: str | None
    credit: MoneyRead | None
    resolved_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
