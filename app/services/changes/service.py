"""Use cases of change requests on active services."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from app.core.etag import check_if_match
from app.core.events import EventRead, events_of, record_event
from app.core.idempotency import IdempotencyClaim, commit_creation
from app.core.pagination import Page, PageParams, keyset, page_of
from app.core.roles import Role
from app.core.tenancy import Caller, find_visible, visible_to
from app.core.time_bounds import received_at_problem, span_problem
from app.models import ChangeRequest, Enterprise, Service
from app.services.calendars.service import due_after, is_business_time
from app.services.changes.referrals import referral_target
from app.services.changes.rules import (
    ANALYSIS_BUSINESS_HOURS,
    CATALOG,
    CHANGE_TRANSITIONS,
    SCHEDULABLE,
    ChangeStatus,
    catalog_item,
    referral_role,
)
from app.services.changes.schemas import (
    CatalogItemRead,
    ChangeRequestCreate,
    ChangeRequestRead,
    ChangeSchedule,
    ChangeTransition,
    WindowRead,
)

SUBJECT = "change_request"

FILERS = frozenset(
    {
        Role.customer_admin,
        Role.customer_user,
        Role.provider_admin,
        Role.change_manager,
        Role.service_manager,
        Role.customer_care_manager,
    }
)

WORKERS = frozenset({Role.provider_admin, Role.change_manager, Role.service_manager})


def catalog() -> list[CatalogItemRead]:
    return [
        CatalogItemRead(
            key=i.key, name=i.name, description=i.description, products=list(i.products)
        )
        for i in CATALOG
    ]


def change_read(row: ChangeRequest) -> ChangeRequestRead:
    window = scheduled = None
    if row.window_start is not None and row.window_end is not None:
        window = WindowRead(start=row.window_start, end=row.window_end)
    if row.scheduled_start is not None and row.scheduled_end is not None:
        scheduled = WindowRead(start=row.scheduled_start, end=row.scheduled_end)
    return ChangeRequestRead(
        id=row.id,
        enterprise_id=row.enterprise_id,
        catalog_item=row.catalog_item,
        standard=row.standard,
        service_ids=list(row.service_ids),
        description=row.description,
        window=window,
        status=ChangeStatus(row.status),
        received_at=row.received_at,
        analysis_due_at=row.analysis_due_at,
        routed_to=row.routed_to,
        scheduled=scheduled,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _check_span(prefix: str, start: datetime, end: datetime, now: datetime) -> None:
    problem = span_problem(start, end, now)
    if problem is not None:
        raise field_error(prefix + problem[0], problem[1])


async def _services(
    session: AsyncSession, caller: Caller, enterprise_id: uuid.UUID, ids: list[uuid.UUID]
) -> list[Service]:
    if len(set(ids)) != len(ids):
        raise field_error("service_ids", "a service is listed twice")
    stmt = visible_to(select(Service), caller, Service.enterprise_id).where(Service.id.in_(ids))
    found = {s.id: s for s in (await session.execute(stmt)).scalars().all()}
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise NotFound(f"service {missing[0]} not found")
    foreign = [str(s.id) for s in found.values() if s.enterprise_id != enterprise_id]
    if foreign:
        raise field_error("service_ids", f"service {foreign[0]} belongs to another enterprise")
    inactive = [s.code for s in found.values() if s.status != "active"]
    if inactive:
        raise field_error("service_ids", f"service {inactive[0]} is not active")
    return [found[i] for i in ids]


async def create_change_request(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    payload: ChangeRequestCreate,
) -> ChangeRequestRead:
    if caller.role not in FILERS:
        raise Forbidden(f"the role {caller.role.value} may not request changes")
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
    if payload.window is not None:
        _check_span("window.", payload.window.start, payload.window.end, now)
    services = await _services(session, caller, enterprise_id, payload.service_ids)
    products = {s.product_line for s in services}
    routed_to: dict[str, Any] | None = None
    analysis_due_at: datetime | None = None
    if payload.catalog_item is not None:
        item = catalog_item(payload.catalog_item)
        if item is None:
            raise field_error(
                "catalog_item", "not in the change catalogue (GET /v1/change-catalog)"
            )
        unfit = sorted(products - set(item.products))
        if unfit:
            raise field_error(
                "catalog_item", f"{item.key} does not apply to {', '.join(unfit)} services"
            )
        status = ChangeStatus.received
        analysis_due_at = await due_after(
            session, enterprise.country, received_at, ANALYSIS_BUSINESS_HOURS
        )
    else:
        status = ChangeStatus.referred
        routed_to = await referral_target(session, enterprise_id, referral_role(products))
    row = ChangeRequest(
        id=uuid.uuid4(),
        enterprise_id=enterprise_id,
        catalog_item=payload.catalog_item,
        standard=payload.catalog_item is not None,
        service_ids=list(payload.service_ids),
        description=payload.description,
        window_start=payload.window.start if payload.window else None,
        window_end=payload.window.end if payload.window else None,
        status=status.value,
        received_at=received_at,
        analysis_due_at=analysis_due_at,
        routed_to=routed_to,
        created_by=caller.actor,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(row)
    await session.flush()
    await _event(session, caller, row, "change.received", now)
    if status is ChangeStatus.referred:
        await _event(session, caller, row, "change.referred", now)
    answer = change_read(row)
    await commit_creation(session, claim, answer)
    return answer


async def _event(
    session: AsyncSession,
    caller: Caller,
    row: ChangeRequest,
    type: str,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    data: dict[str, Any] = {
        "catalog_item": row.catalog_item,
        "standard": row.standard,
        "status": row.status,
        "service_ids": [str(i) for i in row.service_ids],
        "analysis_due_at": row.analysis_due_at.isoformat() if row.analysis_due_at else None,
        "routed_to": row.routed_to,
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
    session: AsyncSession, caller: Caller, change_id: uuid.UUID, *, lock: bool = False
) -> ChangeRequest:
    return await find_visible(
        session, caller, ChangeRequest, change_id, what="change request", lock=lock
    )


async def get_change_request(
    session: AsyncSession, caller: Caller, change_id: uuid.UUID
) -> ChangeRequestRead:
    return change_read(await _load(session, caller, change_id))


async def list_change_requests(
    session: AsyncSession,
    caller: Caller,
    params: PageParams,
    enterprise_id: uuid.UUID | None,
    status: ChangeStatus | None,
) -> Page[ChangeRequestRead]:
    stmt = visible_to(select(ChangeRequest), caller, ChangeRequest.enterprise_id)
    if enterprise_id is not None:
        stmt = stmt.where(ChangeRequest.enterprise_id == enterprise_id)
    if status is not None:
        stmt = stmt.where(ChangeRequest.status == status.value)
    stmt = keyset(stmt, params, ChangeRequest.updated_at, ChangeRequest.id)
    rows = (await session.execute(stmt)).scalars().all()
    items, cursor = page_of(rows, params, lambda r: (r.updated_at, r.id))
    return Page(items=[change_read(r) for r in items], next_cursor=cursor)


async def schedule(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    change_id: uuid.UUID,
    payload: ChangeSchedule,
    if_match: str | None,
) -> ChangeRequestRead:
    """Execution goes in business hours, or inside the window the customer asked for."""
    row = await _load(session, caller, change_id, lock=True)
    if caller.role not in WORKERS:
        raise Forbidden("changes are scheduled by the carrier's change or service managers")
    current = ChangeStatus(row.status)
    if current not in SCHEDULABLE:
        raise Conflict(f"a change request {current.value} cannot be scheduled")
    check_if_match(if_match, row.version)
    _check_span("", payload.start, payload.end, clock.now())
    in_window = (
        row.window_start is not None
        and row.window_end is not None
        and row.window_start <= payload.start
        and payload.end <= row.window_end
    )
    if not in_window:
        country = (
            await session.execute(
                select(Enterprise.country).where(Enterprise.id == row.enterprise_id)
            )
        ).scalar_one()
        if not await _within_business_hours(session, country, payload.start, payload.end):
            raise Unprocessable(
                "execution must fall in business hours or inside the customer's window",
                errors=[
                    {
                        "field": "start",
                        "message": "outside business hours and outside the requested window",
                    }
                ],
            )
    now = clock.now()
    row.scheduled_start, row.scheduled_end = payload.start, payload.end
    row.status = ChangeStatus.scheduled.value
    row.version += 1
    row.updated_at = now
    await _event(
        session,
        caller,
        row,
        "change.scheduled",
        now,
        {"start": payload.start.isoformat(), "end": payload.end.isoformat()},
    )
    answer = change_read(row)
    await session.commit()
    return answer


async def _within_business_hours(
    session: AsyncSession, country: str, start: datetime, end: datetime
) -> bool:
    """Every half hour of the work, and its last second, fall in office hours."""
    if end - start > timedelta(hours=24):
        return False
    probes = [
        start + timedelta(minutes=30 * k)
        for k in range(48)
        if start + timedelta(minutes=30 * k) < end
    ]
    probes.append(end - timedelta(seconds=1))
    for at in probes:
        if not await is_business_time(session, country, at):
            return False
    return True


async def transition(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    change_id: uuid.UUID,
    payload: ChangeTransition,
    if_match: str | None,
) -> ChangeRequestRead:
    row = await _load(session, caller, change_id, lock=True)
    to = ChangeStatus(payload.to)
    customer_cancel = to is ChangeStatus.cancelled and not caller.is_provider
    if caller.role not in WORKERS and not customer_cancel:
        raise Forbidden("change requests are worked by the carrier's change or service managers")
    current = ChangeStatus(row.status)
    if to not in CHANGE_TRANSITIONS[current]:
        raise Conflict(f"a change request {current.value} cannot become {to.value}")
    check_if_match(if_match, row.version)
    now = clock.now()
    row.status = to.value
    row.version += 1
    row.updated_at = now
    await _event(session, caller, row, f"change.{to.value}", now, {"note": payload.note})
    answer = change_read(row)
    await session.commit()
    return answer


async def change_events(
    session: AsyncSession, caller: Caller, change_id: uuid.UUID
) -> list[EventRead]:
    await _load(session, caller, change_id)
    return await events_of(session, caller, SUBJECT, change_id)
