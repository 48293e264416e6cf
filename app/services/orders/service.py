"""Use cases of orders: creation by the customer care manager, touchpoints, status."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import Conflict, Forbidden, field_error
from app.core.etag import check_if_match
from app.core.events import EventRead, events_of, record_event
from app.core.handbook import handbook
from app.core.idempotency import IdempotencyClaim, commit_creation
from app.core.pagination import Page, PageParams, keyset, page_of
from app.core.tenancy import Caller, find_visible, visible_to
from app.models import Enterprise, Order
from app.services.orders.rules import (
    EXPECTED_DELIVERY_TOUCHPOINT,
    OrderStatus,
    may_transition,
    status_after_touchpoint,
    touchpoint_keys,
)
from app.services.orders.schemas import (
    OrderCreate,
    OrderRead,
    OrderSiteIn,
    OrderTransition,
    PersonRef,
    TouchpointRead,
    TouchpointRecord,
)

SUBJECT = "order"


def _touchpoint_table() -> list[dict[str, Any]]:
    table: list[dict[str, Any]] = handbook()["order_touchpoints"]
    return table


def order_read(order: Order) -> OrderRead:
    done = order.touchpoints or {}
    points = []
    for row in _touchpoint_table():
        entry = done.get(row["key"])
        points.append(
            TouchpointRead(
                key=row["key"],
                name=row["en"],
                done_at=datetime.fromisoformat(entry["done_at"]) if entry else None,
                note=entry.get("note") if entry else None,
            )
        )
    return OrderRead(
        id=order.id,
        number=order.number,
        enterprise_id=order.enterprise_id,
        product=order.product,
        description=order.description,
        sites=[OrderSiteIn.model_validate(s) for s in order.sites],
        requested_delivery_date=order.requested_delivery_date,
        expected_delivery_date=order.expected_delivery_date,
        status=OrderStatus(order.status),
        customer_care_manager=PersonRef.model_validate(order.customer_care_manager),
        touchpoints=points,
        version=order.version,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


async def create_order(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    payload: OrderCreate,
) -> OrderRead:
    enterprise = (
        await session.execute(
            visible_to(select(Enterprise.id), caller, Enterprise.id).where(
                Enterprise.id == payload.enterprise_id
            )
        )
    ).scalar_one_or_none()
    if enterprise is None:
        raise field_error("enterprise_id", "no such enterprise")
    now = clock.now()
    seq = (await session.execute(select(func.nextval(text("'order_number_seq'"))))).scalar_one()
    order = Order(
        id=uuid.uuid4(),
        enterprise_id=payload.enterprise_id,
        number=f"ORD-{now.year:04d}-{seq:06d}",
        product=payload.product,
        description=payload.description,
        sites=[s.model_dump(mode="json") for s in payload.sites],
        requested_delivery_date=payload.requested_delivery_date,
        expected_delivery_date=None,
        status=OrderStatus.submitted.value,
        customer_care_manager={"id": caller.actor, "name": caller.name},
        touchpoints={},
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(order)
    await session.flush()
    await record_event(
        session,
        subject_type=SUBJECT,
        subject_id=order.id,
        type="order.created",
        at=now,
        actor=caller.actor,
        enterprise_id=order.enterprise_id,
        data={"number": order.number, "product": order.product, "status": order.status},
    )
    answer = order_read(order)
    await commit_creation(session, claim, answer)
    return answer


async def _load(
    session: AsyncSession, caller: Caller, order_id: uuid.UUID, *, lock: bool = False
) -> Order:
    return await find_visible(session, caller, Order, order_id, what="order", lock=lock)


async def get_order(session: AsyncSession, caller: Caller, order_id: uuid.UUID) -> OrderRead:
    return order_read(await _load(session, caller, order_id))


async def list_orders(
    session: AsyncSession,
    caller: Caller,
    params: PageParams,
    enterprise_id: uuid.UUID | None,
    status: OrderStatus | None,
) -> Page[OrderRead]:
    stmt = visible_to(select(Order), caller, Order.enterprise_id)
    if enterprise_id is not None:
        stmt = stmt.where(Order.enterprise_id == enterprise_id)
    if status is not None:
        stmt = stmt.where(Order.status == status.value)
    rows = (await session.execute(keyset(stmt, params, Order.updated_at, Order.id))).scalars().all()
    items, cursor = page_of(rows, params, lambda o: (o.updated_at, o.id))
    return Page(items=[order_read(o) for o in items], next_cursor=cursor)


async def record_touchpoint(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    order_id: uuid.UUID,
    payload: TouchpointRecord,
    if_match: str | None,
) -> OrderRead:
    order = await _load(session, caller, order_id, lock=True)
    if not caller.is_provider:
        raise Forbidden("touchpoints are recorded by the carrier's staff")
    keys = touchpoint_keys(_touchpoint_table())
    if payload.key not in keys:
        raise field_error("key", f"unknown touchpoint; one of {', '.join(keys)}")
    if payload.key == EXPECTED_DELIVERY_TOUCHPOINT and payload.expected_delivery_date is None:
        raise field_error("expected_delivery_date", "required with this touchpoint")
    if payload.key != EXPECTED_DELIVERY_TOUCHPOINT and payload.expected_delivery_date:
        raise field_error("expected_delivery_date", f"only with {EXPECTED_DELIVERY_TOUCHPOINT}")
    current = OrderStatus(order.status)
    if current in (OrderStatus.accepted, OrderStatus.cancelled):
        raise Conflict(f"the order is {current.value}")
    check_if_match(if_match, order.version)
    now = clock.now()
    order.touchpoints = {
        **(order.touchpoints or {}),
        payload.key: {"done_at": now.isoformat(), "note": payload.note, "by": caller.actor},
    }
    if payload.expected_delivery_date is not None:
        order.expected_delivery_date = payload.expected_delivery_date
    new_status = status_after_touchpoint(current, payload.key)
    order.status = new_status.value
    order.version += 1
    order.updated_at = now
    data: dict[str, Any] = {"number": order.number, "key": payload.key, "note": payload.note}
    if payload.expected_delivery_date is not None:
        data["expected_delivery_date"] = payload.expected_delivery_date.isoformat()
    await record_event(
        session,
        subject_type=SUBJECT,
        subject_id=order.id,
        type="order.touchpoint_recorded",
        at=now,
        actor=caller.actor,
        enterprise_id=order.enterprise_id,
        data=data,
    )
    if new_status is not current:
        await _status_event(session, caller, order, current, now, "")
    answer = order_read(order)
    await session.commit()
    return answer


async def _status_event(
    session: AsyncSession,
    caller: Caller,
    order: Order,
    before: OrderStatus,
    now: datetime,
    note: str,
) -> None:
    await record_event(
        session,
        subject_type=SUBJECT,
        subject_id=order.id,
        type="order.status_changed",
        at=now,
        actor=caller.actor,
        enterprise_id=order.enterprise_id,
        data={"number": order.number, "from": before.value, "to": order.status, "note": note},
    )


async def change_status(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    order_id: uuid.UUID,
    payload: OrderTransition,
    if_match: str | None,
) -> OrderRead:
    order = await _load(session, caller, order_id, lock=True)
    if not caller.is_provider and payload.to is not OrderStatus.accepted:
        raise Forbidden("customers accept delivered orders; staff make the other changes")
    current = OrderStatus(order.status)
    if not may_transition(current, payload.to):
        raise Conflict(f"an order {current.value} cannot become {payload.to.value}")
    check_if_match(if_match, order.version)
    now = clock.now()
    order.status = payload.to.value
    order.version += 1
    order.updated_at = now
    await _status_event(session, caller, order, current, now, payload.note)
    answer = order_read(order)
    await session.commit()
    return answer


async def order_events(
    session: AsyncSession, caller: Caller, order_id: uuid.UUID
) -> list[EventRead]:
    await _load(session, caller, order_id)
    return await events_of(session, caller, SUBJECT, order_id)
