"""Use cases of billing requests: filing, acknowledgement deadline, review and resolution."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import field_error
from app.core.handbook import handbook
from app.core.idempotency import IdempotencyClaim
from app.core.reads import read_of
from app.core.tenancy import Caller
from app.core.workflow import Emit, Workflow, entering, received_when, record_all, snapshot
from app.models import Account, BillingRequest
from app.services.billing.events import (
    ENTERED,
    BillingCreditIssued,
    BillingNoteAdded,
    BillingReceived,
    BillingSnapshot,
    Credit,
)
from app.services.billing.policy import MOVE_ROLES, ROLES
from app.services.billing.rules import (
    ACK_BUSINESS_HOURS,
    BILLING_TRANSITIONS,
    TYPES_WITH_EFFECTIVE_INVOICE,
    BillingStatus,
    BillingType,
    amount_problem,
    effective_invoice,
    mailbox_for,
    money_text,
    resolution,
)
from app.services.billing.schemas import (
    BillingRequestCreate,
    BillingRequestRead,
    BillingResolve,
    BillingTransition,
    MoneyRead,
)
from app.services.calendars.service import due_after, zone_of
from app.services.enterprises.service import get_enterprise


def billing_read(row: BillingRequest) -> BillingRequestRead:
    credit = None
    if row.credit_amount is not None and row.credit_currency is not None:
        credit = MoneyRead(
            amount=money_text(row.credit_amount, row.credit_currency),
            currency=row.credit_currency,
        )
    return read_of(BillingRequestRead, row, credit=credit)


BILLING: Workflow[BillingRequest, BillingStatus, BillingRequestRead] = Workflow(
    model=BillingRequest,
    subject_type=BillingSnapshot.subject_type,
    moves=BILLING_TRANSITIONS,
    roles=MOVE_ROLES,
    event=entering(ENTERED, BillingSnapshot),
    read=billing_read,
)


async def _check_account(
    session: AsyncSession, enterprise_id: uuid.UUID, account_id: uuid.UUID
) -> None:
    """The account must be one of the enterprise the caller was just allowed to act for."""
    stmt = select(Account.id).where(
        Account.enterprise_id == enterprise_id, Account.id == account_id
    )
    if await session.scalar(stmt) is None:
        raise field_error("account_id", "no such account in this enterprise")


async def create_billing_request(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    payload: BillingRequestCreate,
) -> BillingRequestRead:
    now = clock.now()
    backdaters = ROLES["set_received_at"]
    received_at = received_when(caller, payload.received_at, now, backdaters)
    enterprise_id = caller.acting_enterprise(payload.enterprise_id)
    enterprise = await get_enterprise(session, caller, enterprise_id)
    if payload.account_id is not None:
        await _check_account(session, enterprise_id, payload.account_id)
    zone = await zone_of(session, enterprise.country)
    invoice = None
    if payload.type in TYPES_WITH_EFFECTIVE_INVOICE:
        invoice = effective_invoice(received_at.astimezone(zone).date())
    route_to = None
    if payload.type is BillingType.invoice_reference:
        route_to = mailbox_for(handbook()["billing_mailboxes"], enterprise.country)
    row = BillingRequest(
        id=uuid.uuid4(),
        enterprise_id=enterprise_id,
        account_id=payload.account_id,
        type=payload.type.value,
        subject=payload.subject,
        description=payload.description,
        channel=payload.channel.value,
        status=BillingStatus.received.value,
        received_at=received_at,
        ack_due_at=await due_after(session, enterprise.country, received_at, ACK_BUSINESS_HOURS),
        effective_invoice=invoice,
        route_to=route_to,
        created_by=caller.actor,
    )
    received = Emit(BillingReceived(**snapshot(BillingSnapshot, row)), enterprise_id)
    return await BILLING.create(session, caller, claim, row, now, [received])


async def transition(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    request_id: uuid.UUID,
    payload: BillingTransition,
    if_match: str | None,
) -> BillingRequestRead:
    async def stamp(_: AsyncSession, row: BillingRequest, now: Any) -> dict[str, Any]:
        if payload.to is BillingStatus.acknowledged:
            row.acknowledged_at = now
        return {}

    step = BILLING.move(payload.to, doing="work billing requests", change=stamp, note=payload.note)
    return await BILLING.advance(session, caller, clock, request_id, step, if_match)


async def resolve(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    request_id: uuid.UUID,
    payload: BillingResolve,
    if_match: str | None,
) -> BillingRequestRead:
    """Accept (`resolved`, perhaps with a credit) or reject a request: a move of the workflow
    whose hook records the outcome, and the credit as an event of its own."""
    credit = payload.credit
    if credit is not None:
        if payload.outcome != "accepted":
            raise field_error("credit", "a credit comes only with an accepted outcome")
        problem = amount_problem(Decimal(credit.amount), credit.currency)
        if problem is not None:
            raise field_error("credit.amount", problem)

    async def settle(_: AsyncSession, row: BillingRequest, now: Any) -> dict[str, Any]:
        row.outcome = payload.outcome
        row.resolution_note = payload.note
        row.resolved_at = now
        if row.acknowledged_at is None:
            row.acknowledged_at = now
        if credit is not None:
            row.credit_amount = Decimal(credit.amount)
            row.credit_currency = credit.currency
        return {}

    def issued(row: BillingRequest) -> list[Emit]:
        if row.credit_amount is None or row.credit_currency is None:
            return []
        money = Credit(
            amount=money_text(row.credit_amount, row.credit_currency),
            currency=row.credit_currency,
        )
        issued = BillingCreditIssued(**snapshot(BillingSnapshot, row), credit=money)
        return [Emit(issued, row.enterprise_id)]

    step = BILLING.move(
        resolution(payload.outcome),
        doing="resolve billing requests",
        change=settle,
        also=issued,
        note=payload.note,
    )
    return await BILLING.advance(session, caller, clock, request_id, step, if_match)


async def add_note(
    session: AsyncSession, caller: Caller, clock: Clock, request_id: uuid.UUID, body: str
) -> BillingRequestRead:
    """A customer-visible note on a request, whatever its status (a reply to its mail)."""
    row = await BILLING.load(session, caller, request_id, lock=True)
    now = clock.now()
    row.updated_at = now
    row.version += 1
    note = BillingNoteAdded(**snapshot(BillingSnapshot, row), body=body)
    await record_all(session, caller, row.id, now, [Emit(note, row.enterprise_id)])
    await session.flush()
    answer = billing_read(row)
    await session.commit()
    return answer
