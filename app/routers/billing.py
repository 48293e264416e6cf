"""Billing requests: inquiries, disputes, billing-data changes, PO/HES/MIGO references."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from app.core.deps import GuardedWrite, SessionDep, Write
from app.core.etag import with_etag
from app.core.events import EventRead
from app.core.idempotency import Idempotency
from app.core.pagination import Page, Paging
from app.services.billing import schemas, service
from app.services.billing.policy import (
    BillingAgent,
    BillingFiler,
    BillingReader,
    BillingResolver,
)
from app.services.billing.rules import BillingStatus, BillingType

router = APIRouter(prefix="/v1/billing-requests", tags=["billing"])

CREATE_DESCRIPTION = """File a billing request. Customers file their own; billing agents file
for them, and only staff may set `received_at` (an e-mail that came in earlier).

- `ack_due_at`: 48 business hours after `received_at`, on the calendar of the enterprise's
  country (office hours, public holidays, time zone).
- `effective_invoice` (`YYYY-MM`, for `billing_data_change` and `invoice_reference`): asked on
  days 1-15 of a month (in the enterprise's local time), the next month's invoice; from the
  16th, the invoice of the month after. The handbooks name the 15th in both ranges; Carrier
  Desk takes the 15th as part of the first half.
- `route_to`: for `invoice_reference` (PO/HES/MIGO numbers), the country's billing mailbox.
"""


@router.post(
    "",
    status_code=201,
    summary="File a billing request",
    description=CREATE_DESCRIPTION,
)
async def create_billing_request(
    payload: schemas.BillingRequestCreate,
    caller: BillingFiler,
    write: Write,
    claim: Idempotency,
) -> schemas.BillingRequestRead:
    return await service.create_billing_request(write.session, caller, write.clock, claim, payload)


@router.get("", summary="Billing requests the caller may see")
async def list_billing_requests(
    caller: BillingReader,
    session: SessionDep,
    paging: Paging,
    enterprise_id: uuid.UUID | None = None,
    status: BillingStatus | None = None,
    type: BillingType | None = None,
) -> Page[schemas.BillingRequestRead]:
    return await service.BILLING.page(
        session, caller, paging, enterprise_id=enterprise_id, status=status, type=type
    )


@router.get("/{request_id}", summary="One billing request")
async def get_billing_request(
    request_id: uuid.UUID, caller: BillingReader, session: SessionDep, response: Response
) -> schemas.BillingRequestRead:
    row = await service.BILLING.get(session, caller, request_id)
    return with_etag(response, row)


@router.post(
    "/{request_id}/transitions",
    summary="Acknowledge a request, or take it into review (billing agents)",
)
async def transition(
    request_id: uuid.UUID,
    payload: schemas.BillingTransition,
    caller: BillingAgent,
    write: GuardedWrite,
) -> schemas.BillingRequestRead:
    return await write.answer(service.transition, caller, request_id, payload, write.if_match)


@router.post(
    "/{request_id}/resolve",
    summary="Resolve or reject a request, with an optional credit (billing agents)",
    description="A credit is `{amount, currency}`: the amount a decimal string (never a JSON "
    "number) no finer than the currency's minor unit, the currency an ISO 4217 code. Amounts "
    'are answered in the minor units: "150.50" USD, "1000" JPY, "1.250" BHD.',
)
async def resolve(
    request_id: uuid.UUID,
    payload: schemas.BillingResolve,
    caller: BillingResolver,
    write: GuardedWrite,
) -> schemas.BillingRequestRead:
    return await write.answer(service.resolve, caller, request_id, payload, write.if_match)


@router.get("/{request_id}/events", summary="The billing request's history, oldest first")
async def billing_events(
    request_id: uuid.UUID, caller: BillingReader, session: SessionDep, paging: Paging
) -> Page[EventRead]:
    return await service.BILLING.history(session, caller, request_id, paging)
