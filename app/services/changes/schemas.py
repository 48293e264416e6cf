"""Change requests on active services, and the catalogue of standard changes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, field_validator

from app.core.events import UtcDateTime
from app.core.schemas import LongText, RequestBody, ResponseBody, ends_after_start
from app.core.workflow import MovesTo
from app.services.changes.rules import CHANGE_TRANSITIONS, MAX_SERVICES_PER_CHANGE, ChangeStatus


class CatalogItemRead(ResponseBody):
    key: str
    name: str
    description: str
    products: list[str]


class Window(RequestBody):
    start: UtcDateTime
    end: UtcDateTime

    _ordered = field_validator("end")(ends_after_start)


class ChangeRequestCreate(RequestBody):
    enterprise_id: uuid.UUID | None = None
    catalog_item: str | None = Field(
        default=None,
        max_length=64,
        description="A key of GET /v1/change-catalog, or null for a change outside it "
        "(referred to the service manager or account manager)",
    )
    service_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=MAX_SERVICES_PER_CHANGE,
        description=f"At most {MAX_SERVICES_PER_CHANGE} services per change",
    )
    description: LongText = ""
    window: Window | None = Field(
        default=None, description="When the customer wants the work done, if not business hours"
    )
    received_at: UtcDateTime | None = Field(
        default=None, description="Provider staff only; defaults to now"
    )


class ChangeSchedule(Window):
    """When the work is executed: in business hours, or inside the customer's window."""


class ChangeTransition(RequestBody):
    to: Annotated[ChangeStatus, MovesTo(CHANGE_TRANSITIONS, exclude={ChangeStatus.scheduled})] = (
        Field(description="`scheduled` is reached through the schedule endpoint")
    )
    note: LongText = ""


class WindowRead(ResponseBody):
    start: datetime
    end: datetime


class ChangeRequestRead(ResponseBody):
    id: uuid.UUID
    enterprise_id: uuid.UUID
    catalog_item: str | None
    standard: bool
    service_ids: list[uuid.UUID]
    description: str
    window: WindowRead | None
    status: ChangeStatus
    received_at: datetime
    analysis_due_at: datetime | None = Field(
        description="Standard changes: 72 business hours after receipt"
    )
    routed_to: dict[str, Any] | None = Field(
        description="Changes outside the catalogue: the account-team role (and person, when "
        "the enterprise's account team names one) they are referred to"
    )
    scheduled: WindowRead | None
    version: int
    created_at: datetime
    updated_at: datetime
