"""Orders: created by the customer care manager, followed by customers through touchpoints."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from app.core.deps import GuardedWrite, SessionDep, Write
from app.core.etag import with_etag
from app.core.events import EventRead
from app.core.idempotency import Idempotency
from app.core.pagination import Page, Paging
from app.services.orders import schemas, service
from app.services.orders.policy import OrderDesk, OrderMover, OrderReader, OrderStaff
from app.services.orders.rules import OrderStatus

router = APIRouter(prefix="/v1/orders", tags=["orders"])


@router.post("", status_code=201, summary="Create an order (customer care managers)")
async def create_order(
    payload: schemas.OrderCreate,
    caller: OrderDesk,
    write: Write,
    claim: Idempotency,
) -> schemas.OrderRead:
    return await service.create_order(write.session, caller, write.clock, claim, payload)


@router.get("", summary="Orders the caller may see")
async def list_orders(
    caller: OrderReader,
    session: SessionDep,
    paging: Paging,
    enterprise_id: uuid.UUID | None = None,
    status: OrderStatus | None = None,
) -> Page[schemas.OrderRead]:
    return await service.ORDERS.page(
        session, caller, paging, enterprise_id=enterprise_id, status=status
    )


@router.get("/{order_id}", summary="One order, with its six touchpoints in the handbook's order")
async def get_order(
    order_id: uuid.UUID, caller: OrderReader, session: SessionDep, response: Response
) -> schemas.OrderRead:
    order = await service.ORDERS.get(session, caller, order_id)
    return with_etag(response, order)


@router.post(
    "/{order_id}/touchpoints",
    summary="Record a touchpoint (staff); `expected_delivery_date` sets the order's date",
)
async def record_touchpoint(
    order_id: uuid.UUID,
    payload: schemas.TouchpointRecord,
    caller: OrderStaff,
    write: GuardedWrite,
) -> schemas.OrderRead:
    return await write.answer(service.record_touchpoint, caller, order_id, payload, write.if_match)


@router.post(
    "/{order_id}/transitions",
    summary="Change the order's status (customers: accept a delivered order)",
)
async def change_status(
    order_id: uuid.UUID,
    payload: schemas.OrderTransition,
    caller: OrderMover,
    write: GuardedWrite,
) -> schemas.OrderRead:
    return await write.answer(service.change_status, caller, order_id, payload, write.if_match)


@router.get("/{order_id}/events", summary="The order's history, oldest first")
async def order_events(
    order_id: uuid.UUID, caller: OrderReader, session: SessionDep, paging: Paging
) -> Page[EventRead]:
    return await service.ORDERS.history(session, caller, order_id, paging)
