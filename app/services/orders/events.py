"""The events of an order.

`order.updated` was registered once and never recorded (no use case edits an order after its
creation; touchpoints and status changes have their own events), so it is gone.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import ConfigDict, Field

from app.core.event_registry import EventPayload


class OrderEvent(StrEnum):
    created = "order.created"
    touchpoint_recorded = "order.touchpoint_recorded"
    status_changed = "order.status_changed"


class OrderPayload(EventPayload, subject_type="order"):
    number: str


class OrderCreated(OrderPayload, event_type=OrderEvent.created):
    product_line: str
    status: str


class OrderTouchpointRecorded(OrderPayload, event_type=OrderEvent.touchpoint_recorded):
    key: str
    note: str = ""
    expected_delivery_date: date | None = None


class OrderStatusChanged(OrderPayload, event_type=OrderEvent.status_changed):
    # `from` is a Python keyword: the field is `from_`, written and read as "from".
    model_config = ConfigDict(
        extra="forbid", frozen=True, serialize_by_alias=True, validate_by_name=True
    )
    from_: str = Field(alias="from")
    to: str
    note: str = ""
