"""Use cases of orders: creation by the customer care manager, touchpoints, status."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import field_error
from app.core.handbook import handbook
from app.core.idempotency import IdempotencyClaim
from app.core.reads import read_of
from app.core.tenancy import Caller, visible_to
from app.core.workflow import Emit, Workflow
from app.models import Enterprise, Order
from app.services.orders.events import (
    OrderCreated,
    OrderPayload,
    OrderStatusChanged,
    OrderTouchpointRecorded,
)
from app.services.orders.policy import MOVE_ROLES, ROLES
from app.services.orders.rules import (
    EXPECTED_DELIVERY_TOUCHPOINT,
    ORDER_TRANSITIONS,
    OrderStatus,
    status_after_touchpoint,
    touchpoint_keys,
)
from app.services.orders.schemas import (
    OrderCreate,
    OrderRead,
    OrderTransition,
    TouchpointRead,
    TouchpointRecord,
)


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
    return read_of(OrderRead, order, touchpoints=points)


def _status_changed(order: Order, before: OrderStatus, extra: Mapping[str, Any]) -> OrderPayload:
    return OrderStatusChanged.model_validate(
        {"number": order.number, "from": before.value, "to": order.status, **extra}
    )


ORDERS: Workflow[Order, OrderStatus, OrderRead] = Workflow(
    model=Order,
    subject_type=OrderPayload.subject_type,
    moves=ORDER_TRANSITIONS,
    roles=MOVE_ROLES,
    event=_status_changed,
    read=order_read,
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
        product_line=payload.product_line,
        description=payload.description,
        sites=[s.model_dump(mode="json") for s in payload.sites],
        requested_delivery_date=payload.requested_delivery_date,
        expected_delivery_date=None,
        status=OrderStatus.submitted.value,
        customer_care_manager={"id": caller.actor, "name": caller.name},
        touchpoints={},
    )
    created = OrderCreated(
        number=order.number, product_line=order.product_line, status=order.status
    )
    emits = [Emit(created, order.enterprise_id)]
    return await ORDERS.create(session, caller, claim, order, now, emits)


def _check_touchpoint(payload: TouchpointRecord) -> None:
    keys = touchpoint_keys(_touchpoint_table())
    if payload.key not in keys:
        raise field_error("key", f"unknown touchpoint; one of {', '.join(keys)}")
    if payload.key == EXPECTED_DELIVERY_TOUCHPOINT and payload.expected_delivery_date is None:
        raise field_error("expected_delivery_date", "required with this touchpoint")
    if payload.key != EXPECTED_DELIVERY_TOUCHPOINT and payload.expected_delivery_date:
        raise field_error("expected_delivery_date", f"only with {EXPECTED_DELIVERY_TOUCHPOINT}")


async def record_touchpoint(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    order_id: uuid.UUID,
    payload: TouchpointRecord,
    if_match: str | None,
) -> OrderRead:
    """A touchpoint is a step of the order's workflow that keeps it open: recording one may
    start the order, and the connectivity notice delivers it (`status_after_touchpoint`)."""
    _check_touchpoint(payload)

    async def record(
        _: AsyncSession, order: Order, before: OrderStatus, now: datetime
    ) -> list[Emit]:
        order.touchpoints = {
            **(order.touchpoints or {}),
            payload.key: {"done_at": now.isoformat(), "note": payload.note, "by": caller.actor},
        }
        if payload.expected_delivery_date is not None:
            order.expected_delivery_date = payload.expected_delivery_date
        order.status = status_after_touchpoint(before, payload.key).value
        recorded = OrderTouchpointRecorded(
            number=order.number,
            key=payload.key,
            note=payload.note,
            expected_delivery_date=payload.expected_delivery_date,
        )
        emits = [Emit(recorded, order.enterprise_id)]
        if order.status != before.value:
            emits.append(Emit(_status_changed(order, before, {}), order.enterprise_id))
        return emits

    step = ORDERS.edit(
        "record a touchpoint", ROLES["record_touchpoint"], doing="record touchpoints", hook=record
    )
    return await ORDERS.advance(session, caller, clock, order_id, step, if_match)


async def change_status(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    order_id: uuid.UUID,
    payload: OrderTransition,
    if_match: str | None,
) -> OrderRead:
    step = ORDERS.move(payload.to, doing=f"make an order {payload.to.value}", note=payload.note)
    return await ORDERS.advance(session, caller, clock, order_id, step, if_match)
