"""Use cases of change requests on active services."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import NotFound, field_error
from app.core.idempotency import IdempotencyClaim
from app.core.pagination import Page
from app.core.reads import read_of
from app.core.tenancy import Caller, visible_to
from app.core.workflow import Emit, Workflow, entering, received_when, snapshot
from app.models import ChangeRequest, Service
from app.services.calendars.service import due_after
from app.services.changes.events import ENTERED, ChangeSnapshot
from app.services.changes.policy import MOVE_ROLES, ROLES
from app.services.changes.referrals import referral_target
from app.services.changes.rules import (
    ANALYSIS_BUSINESS_HOURS,
    CATALOG,
    CHANGE_TRANSITIONS,
    ChangeStatus,
    catalog_item,
    referral_role,
)
from app.services.changes.scheduling import check_execution_time, check_span
from app.services.changes.schemas import (
    CatalogItemRead,
    ChangeRequestCreate,
    ChangeRequestRead,
    ChangeSchedule,
    ChangeTransition,
    WindowRead,
)
from app.services.enterprises.service import get_enterprise


def catalog() -> Page[CatalogItemRead]:
    """The whole catalogue, one page: it is a handful of items."""
    items = [
        CatalogItemRead(
            key=i.key, name=i.name, description=i.description, products=list(i.products)
        )
        for i in CATALOG
    ]
    return Page(items=items, next_cursor=None)


def change_read(row: ChangeRequest) -> ChangeRequestRead:
    window = scheduled = None
    if row.window_start is not None and row.window_end is not None:
        window = WindowRead(start=row.window_start, end=row.window_end)
    if row.scheduled_start is not None and row.scheduled_end is not None:
        scheduled = WindowRead(start=row.scheduled_start, end=row.scheduled_end)
    return read_of(ChangeRequestRead, row, window=window, scheduled=scheduled)


CHANGES: Workflow[ChangeRequest, ChangeStatus, ChangeRequestRead] = Workflow(
    model=ChangeRequest,
    subject_type=ChangeSnapshot.subject_type,
    moves=CHANGE_TRANSITIONS,
    roles=MOVE_ROLES,
    event=entering(ENTERED, ChangeSnapshot),
    read=change_read,
)


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
    now = clock.now()
    backdaters = ROLES["set_received_at"]
    received_at = received_when(caller, payload.received_at, now, backdaters)
    enterprise_id = caller.acting_enterprise(payload.enterprise_id)
    enterprise = await get_enterprise(session, caller, enterprise_id)
    if payload.window is not None:
        check_span("window.", payload.window.start, payload.window.end, now)
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
    )
    entered = [ChangeStatus.received]
    if status is ChangeStatus.referred:
        entered.append(ChangeStatus.referred)
    emits = [Emit(ENTERED[s](**snapshot(ChangeSnapshot, row)), enterprise_id) for s in entered]
    return await CHANGES.create(session, caller, claim, row, now, emits)


async def schedule(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    change_id: uuid.UUID,
    payload: ChangeSchedule,
    if_match: str | None,
) -> ChangeRequestRead:
    """Execution goes in business hours, or inside the window the customer asked for."""

    async def place(session: AsyncSession, row: ChangeRequest, now: datetime) -> dict[str, Any]:
        check_span("", payload.start, payload.end, now)
        await check_execution_time(session, row, payload.start, payload.end)
        row.scheduled_start, row.scheduled_end = payload.start, payload.end
        return {"start": payload.start, "end": payload.end}

    step = CHANGES.move(ChangeStatus.scheduled, doing="schedule changes", change=place)
    return await CHANGES.advance(session, caller, clock, change_id, step, if_match)


async def transition(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    change_id: uuid.UUID,
    payload: ChangeTransition,
    if_match: str | None,
) -> ChangeRequestRead:
    step = CHANGES.move(
        payload.to, doing=f"move a change request to {payload.to.value}", note=payload.note
    )
    return await CHANGES.advance(session, caller, clock, change_id, step, if_match)
