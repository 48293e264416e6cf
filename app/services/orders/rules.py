"""Orders: the handbook's six touchpoints and the order's status rules."""

from __future__ import annotations

from enum import StrEnum, auto
from typing import Any


class OrderStatus(StrEnum):
    submitted = auto()
    in_progress = auto()
    delivered = auto()
    accepted = auto()
    cancelled = auto()


EXPECTED_DELIVERY_TOUCHPOINT = "expected_delivery_date"

CONNECTIVITY_TOUCHPOINT = "connectivity_notice"

# Which status may follow which; `accepted` is the customer's word on delivery.
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.submitted: frozenset({OrderStatus.in_progress, OrderStatus.cancelled}),
    OrderStatus.in_progress: frozenset({OrderStatus.delivered, OrderStatus.cancelled}),
    OrderStatus.delivered: frozenset({OrderStatus.accepted}),
    OrderStatus.accepted: frozenset(),
    OrderStatus.cancelled: frozenset(),
}


def touchpoint_keys(table: list[dict[str, Any]]) -> list[str]:
    """The touchpoint keys in the handbook's order (`order_touchpoints` in the data)."""
    return [str(row["key"]) for row in table]


def may_transition(current: OrderStatus, to: OrderStatus) -> bool:
    return to in ORDER_TRANSITIONS[current]


def status_after_touchpoint(current: OrderStatus, key: str) -> OrderStatus:
    """Recording a touchpoint starts the order; the connectivity notice delivers it."""
    if current in (OrderStatus.accepted, OrderStatus.cancelled):
        return current
    if key == CONNECTIVITY_TOUCHPOINT:
        return OrderStatus.delivered
    if current is OrderStatus.submitted:
        return OrderStatus.in_progress
    return current
