"""Use cases of billing requests: filing, acknowledgement deadline, review and resolution."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import Conflict, Forbidden, NotFound, field_error
from app.core.etag import check_if_match
from app.core.events import EventRead, events_of, record_event
from app.core.handbook import handbook
from app.core.idempotency import IdempotencyClaim, commit_creation
from app.core.pagination import Page, PageParams, keyset, page_of
from app.core.roles import Role
from app.core.tenancy import Caller, find_visible, visible_to
from app.core.time_bounds import received_at_problem
from app.models import Account, BillingRequest, Enterprise
from app.services.billing.rules import (
    ACK_BUSINESS_HOURS,
    BILLING_TRANSITIONS,
    OPEN_STATUSES,
    TYPES_WITH_EFFECTIVE_INVOICE,
    BillingStatus,
    BillingType,
    effective_invoice,
    mailbox_for,
)
from app.services.billing.schemas import (
    BillingRequestCreate,
    BillingRequestRead,
    BillingResolve,
    BillingTransition,
    MoneyRead,
)
from app.services.calendars.service import due_after, zone_of

SUBJECT = "billing_request"

FILERS = frozenset(
    {Role.customer_admin, Role.customer_user, Role.billing_agent, Role.provider_admin}
)

AGENTS = frozenset({Role.billing_agent, Role.provider_admin})


def billing_read(row: BillingRequest) -> BillingRequestRead:
    credit = None
    if row.credit_amount is not None and row.credit_currency is not None:
        credit = MoneyRead(amount=str(row.credit_amount.normalize()), currency=row.credit_currency)
    return BillingRequestRead.model_validate(
        {
            **{c: getattr(row, c) for c in BillingRequestRead.model_fields if hasattr(row, c)},
            "credit": credit,
        }
    )


async def create_billing_request(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    payload: BillingRequestCreate,
) -> BillingRequestRead:
    if caller.role not in FILERS:
        raise Forbidden(f"the role {caller.role.value} may not file billing requests")
    now = clock.now()
    received_at = now
    if payload.received_at is not None:
        if not caller.is_provider:
            raise Forbidden("only the carrier's staff may set received_at")
        problem = received_at_problem(payload.received_at, now)
        if problem is not None:
            raise field_error("received_at", problem)
        received_at = payload.received_at
    enterprise_id = caller.acting_enterprise(payload.enterprise_id)
    enterprise = (
        await session.execute(
            visible_to(select(Enterprise), caller, Enterprise.id).where(
                Enterprise.id == enterprise_id
            )
        )
    ).scalar_one_or_none()
    if enterprise is None:
        raise NotFound(f"enterprise {enterprise_id} not found")
    if payload.account_id is not None:
        account = (
            await session.execute(
                select(Account.id).where(
                    Account.id == payload.account_id, Account.enterprise_id == enterprise_id
                )
            )
        ).scalar_one_or_none()
        if account is None:
            raise field_error("account_id", "no such account in this enterprise")
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
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(row)
    await session.flush()
    await _event(session, caller, row, "billing.received", now)
    answer = billing_read(row)
    await commit_creation(session, claim, answer)
    return answer


async def _event(
    session: AsyncSession,
    caller: Caller,
    row: BillingRequest,
    type: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    data: dict[str, Any] = {
        "type": row.type,
        "subject": row.subject,
        "status": row.status,
        "ack_due_at": row.ack_due_at.isoformat(),
        "effective_invoice": row.effective_invoice,
        "route_to": row.route_to,
    }
    await record_event(
        session,
        subject_type=SUBJECT,
        subject_id=row.id,
        type=type,
        at=now,
        actor=caller.actor,
        enterprise_id=row.enterprise_id,
        data={**data, **(extra or {})},
    )


async def _load(
    session: AsyncSession, caller: Caller, request_id: uuid.UUID, *, lock: bool = False
) -> BillingRequest:
    return await find_visible(
        session, caller, BillingRequest, request_id, what="billing request", lock=lock
    )


async def get_billing_request(
    session: AsyncSession, caller: Caller, request_id: uuid.UUID
) -> BillingRequestRead:
    return billing_read(await _load(session, caller, request_id))


async def list_billing_requests(
    session: AsyncSession,
    caller: Caller,
    params: PageParams,
    enterprise_id: uuid.UUID | None,
    status: BillingStatus | None,
    type: BillingType | None,
) -> Page[BillingRequestRead]:
    stmt = visible_to(select(BillingRequest), caller, BillingRequest.enterprise_id)
    if enterprise_id is not None:
        stmt = stmt.where(BillingRequest.enterprise_id == enterprise_id)
    if status is not None:
        stmt = stmt.where(BillingRequest.status == status.value)
    if type is not None:
        stmt = stmt.where(BillingRequest.type == type.value)
    stmt = keyset(stmt, params, BillingRequest.updated_at, BillingRequest.id)
    rows = (await session.execute(stmt)).scalars().all()
    items, cursor = page_of(rows, params, lambda r: (r.updated_at, r.id))
    return Page(items=[billing_read(r) for r in items], next_cursor=cursor)


async def transition(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    request_id: uuid.UUID,
    payload: BillingTransition,
    if_match: str | None,
) -> BillingRequestRead:
    row = await _load(session, caller, request_id, lock=True)
    if caller.role not in AGENTS:
        raise Forbidden("billing requests are worked by billing agents")
    current, to = BillingStatus(row.status), BillingStatus(payload.to)
    if to not in BILLING_TRANSITIONS[current]:
        raise Conflict(f"a billing request {current.value} cannot become {to.value}")
    check_if_match(if_match, row.version)
    now = clock.now()
    row.status = to.value
    if to is BillingStatus.acknowledged:
        row.acknowledged_at = now
    row.version += 1
    row.updated_at = now
    await _event(session, caller, row, f"billing.{to.value}", now, {"note": payload.note})
    answer = billing_read(row)
    await session.commit()
    return answer


async def resolve(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    request_id: uuid.UUID,
    payload: BillingResolve,
    if_match: str | None,
) -> BillingRequestRead:
    row = await _load(session, caller, request_id, lock=True)
    if caller.role not in AGENTS:
        raise Forbidden("only billing agents resolve billing requests")
    if payload.credit is not None and payload.outcome != "accepted":
        raise field_error("credit", "a credit comes only with an accepted outcome")
    current = BillingStatus(row.status)
    if current not in OPEN_STATUSES:
        raise Conflict(f"the billing request is already {current.value}")
    check_if_match(if_match, row.version)
    now = clock.now()
    row.status = (
        BillingStatus.resolved.value
        if payload.outcome == "accepted"
        else BillingStatus.rejected.value
    )
    row.outcome = payload.outcome
    row.resolution_note = payload.note
    row.resolved_at = now
    if row.acknowledged_at is None:
        row.acknowledged_at = now
    if payload.credit is not None:
        row.credit_amount = Decimal(payload.credit.amount)
        row.credit_currency = payload.credit.currency
    row.version += 1
    row.updated_at = now
    await _event(session, caller, row, f"billing.{row.status}", now, {"note": payload.note})
    if payload.credit is not None:
        await _event(
            session,
            caller,
            row,
            "billing.credit_issued",
            now,
            {"credit": {"amount": payload.credit.amount, "currency": payload.credit.currency}},
        )
    answer = billing_read(row)
    await session.commit()
    return answer


async def billing_events(
    session: AsyncSession, caller: Caller, request_id: uuid.UUID
) -> list[EventRead]:
    await _load(session, caller, request_id)
    return await events_of(session, caller, SUBJECT, request_id)
