"""Change requests on active services, and the catalogue of standard changes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from app.core.events import UtcDateTime
from app.core.schemas import LongText, RequestBody, ResponseBody
from app.services.changes.rules import MAX_SERVICES_PER_CHANGE, ChangeStatus


class CatalogItemRead(ResponseBody):
    key: str
    name: str
    description: str
    products: list[str]


class Window(RequestBody):
    start: UtcDateTime
    end: UtcDateTime

    @field_validator("end")
    @classmethod
    def _ordered(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("end must be after start")
        return end


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


class ChangeSchedule(RequestBody):
    start: UtcDateTime
    end: UtcDateTime

    @field_validator("end")
    @classmethod
    def _ordered(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("end must be after start")
        return end


class ChangeTransition(RequestBody):
    to: Literal["analysed", "completed", "rejected", "cancelled"]
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
