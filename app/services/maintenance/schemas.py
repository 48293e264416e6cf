"""Planned maintenance: global change requests (GCR)."""

from __future__ import annotations

import uuid
from datetime import datetime, time

from pydantic import Field, field_validator, model_validator

from app.core.events import UtcDateTime
from app.core.schemas import LongText, RequestBody, ResponseBody, ends_after_start
from app.services.maintenance.rules import ExpectedImpact, MaintenanceKind, MaintenanceStatus

GCR_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$"


class MaintenanceCreate(RequestBody):
    gcr_number: str | None = Field(
        default=None, pattern=GCR_PATTERN, description="Generated (GCR-YYYY-NNNNNN) when absent"
    )
    kind: MaintenanceKind = MaintenanceKind.standard
    start: UtcDateTime
    end: UtcDateTime
    impacted_service_ids: list[uuid.UUID] = Field(min_length=1, max_length=5000)
    reason: LongText = Field(min_length=1)
    expected_impact: ExpectedImpact

    _ordered = field_validator("end")(ends_after_start)


class MaintenanceUpdate(RequestBody):
    kind: MaintenanceKind | None = None
    start: UtcDateTime | None = None
    end: UtcDateTime | None = None
    impacted_service_ids: list[uuid.UUID] | None = Field(
        default=None, min_length=1, max_length=5000
    )
    reason: LongText | None = Field(default=None, min_length=1)
    expected_impact: ExpectedImpact | None = None


class MaintenanceCancel(RequestBody):
    reason: LongText = ""


class MaintenanceRead(ResponseBody):
    id: uuid.UUID
    gcr_number: str
    kind: MaintenanceKind
    emergency: bool = Field(description="Emergency work: exempt from the window and notice")
    status: MaintenanceStatus
    start: datetime
    end: datetime
    reason: str
    expected_impact: ExpectedImpact
    impacted_service_ids: list[uuid.UUID] = Field(
        description="To a customer: only its own services"
    )
    impacted_enterprise_ids: list[uuid.UUID] = Field(
        description="Derived from the services; to a customer: only its own enterprises"
    )
    acknowledged_at: datetime | None = Field(
        description="To a customer: when its enterprise acknowledged the notice"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class MaintenancePolicyRead(ResponseBody):
    country: str
    window_start: time = Field(description="Local time of the impacted sites")
    window_end: time
    notice_days: int = Field(description="Calendar days of notice standard work needs")


class MaintenancePolicyUpdate(RequestBody):
    window_start: time
    window_end: time
    notice_days: int = Field(ge=0, le=365)

    @model_validator(mode="after")
    def _not_empty(self) -> MaintenancePolicyUpdate:
        if self.window_start == self.window_end:
            raise ValueError("the window must not be empty")
        if self.window_start.tzinfo is not None or self.window_end.tzinfo is not None:
            raise ValueError("window times are local: give them without an offset")
        return self


class MaintenanceFeedRead(ResponseBody):
    enterprise_id: uuid.UUID
    url: str = Field(description="Secret iCalendar URL: anyone holding it reads the feed")
