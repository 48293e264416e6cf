"""Network incidents: what staff declare, and what each caller reads of one."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from app.core.schemas import Instant, LongText, NonEmpty, RequestBody, ResponseBody
from app.services.incidents.rules import Impact, IncidentStatus
from app.services.tickets.rules import Severity


class IncidentCreate(RequestBody):
    summary: NonEmpty
    description: LongText = ""
    severity: Severity = Severity.critical
    impact: Impact = Impact.down
    service_ids: list[uuid.UUID] = Field(min_length=1, max_length=5000)
    ticket_ids: list[uuid.UUID] = Field(default_factory=list, max_length=5000)
    started_at: Instant | None = Field(default=None, description="When the outage began; now")
    expected_end_at: Instant | None = None


class IncidentResolve(RequestBody):
    resolution: LongText = Field(min_length=1, description="Told to every affected customer")


class IncidentService(ResponseBody):
    id: uuid.UUID
    code: str
    enterprise_id: uuid.UUID


class IncidentTicket(ResponseBody):
    id: uuid.UUID
    number: str
    enterprise_id: uuid.UUID


class IncidentRead(ResponseBody):
    id: uuid.UUID
    number: str
    summary: str
    description: str
    severity: Severity
    impact: Impact
    status: IncidentStatus
    started_at: datetime
    expected_end_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None
    services: list[IncidentService] = Field(description="To a customer: only its own services")
    tickets: list[IncidentTicket] = Field(description="To a customer: only its own tickets")
    version: int
    created_at: datetime
    updated_at: datetime
