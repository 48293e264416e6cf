"""Orders and their touchpoints."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import Field

from app.core.schemas import LongText, NonEmpty, RequestBody, ResponseBody
from app.core.workflow import MovesTo
from app.services.enterprises.schemas import Country
from app.services.orders.rules import ORDER_TRANSITIONS, OrderStatus


class OrderSiteIn(RequestBody):
    address: Annotated[str, Field(min_length=1, max_length=300)]
    city: Annotated[str, Field(min_length=1, max_length=120)]
    country: Country


class OrderCreate(RequestBody):
    enterprise_id: uuid.UUID
    product_line: NonEmpty
    description: LongText = ""
    sites: list[OrderSiteIn] = Field(min_length=1, max_length=100)
    requested_delivery_date: date | None = None


class TouchpointRecord(RequestBody):
    key: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="One of the six handbook touchpoints (see `touchpoints` on the order)"
    )
    note: LongText = ""
    expected_delivery_date: date | None = Field(
        default=None, description="Required with the `expected_delivery_date` touchpoint"
    )


class OrderTransition(RequestBody):
    to: Annotated[OrderStatus, MovesTo(ORDER_TRANSITIONS)] = Field(
        description="in_progress, delivered, cancelled (staff); accepted (the customer, "
        "once delivered)"
    )
    note: LongText = ""


class TouchpointRead(ResponseBody):
    key: str
    name: str
    done_at: datetime | None
    note: str | None


class PersonRef(ResponseBody):
    id: str
    name: str


class OrderRead(ResponseBody):
    id: uuid.UUID
    number: str
    enterprise_id: uuid.UUID
    product_line: str
    description: str
    sites: list[OrderSiteIn]
    requested_delivery_date: date | None
    expected_delivery_date: date | None
    status: OrderStatus
    customer_care_manager: PersonRef
    touchpoints: list[TouchpointRead]
    version: int
    created_at: datetime
    updated_at: datetime
