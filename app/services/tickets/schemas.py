"""Trouble tickets, their SLA clocks and history, SLA policies and the SLA report."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

import phonenumbers
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    Field,
    StringConstraints,
    model_validator,
)

from app.core.schemas import Email, Instant, LongText, NonEmpty, RequestBody
from app.services.enterprises.schemas import Country
from app.services.tickets.rules import (
    Channel,
    CityTier,
    Severity,
    Stage,
    Status,
    check_ratios,
    parse_duration,
)


# Parsing a number costs as much as the rest of the contact, and a NOC's duty line comes back
# on every ticket: each number is checked once per process (a refused one every time).
@lru_cache(maxsize=4096)
def _check_phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number in international form (+country code …)") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return value


def _check_duration(value: str) -> str:
    parse_duration(value)
    return value.strip().upper()


Phone = Annotated[str, StringConstraints(max_length=40), AfterValidator(_check_phone)]

ServiceCode = Annotated[str, StringConstraints(min_length=1, max_length=64)]

Duration = Annotated[
    str,
    StringConstraints(max_length=40),
    AfterValidator(_check_duration),
    Field(description="ISO 8601 duration, e.g. PT4M or PT1H30M", examples=["PT4M"]),
]


class Contact(RequestBody):
    name: NonEmpty
    phone: Phone | None = None
    email: Email | None = None


class SiteIn(RequestBody):
    address: NonEmpty
    city: NonEmpty
    country: Country


class TicketCreate(RequestBody):
    enterprise_id: uuid.UUID | None = Field(
        default=None, description="Needed only when the caller acts for several enterprises"
    )
    service_id: uuid.UUID | None = Field(
        default=None,
        description="The affected service (or `service_code`). May be left out when the reporter "
        "does not know it yet: the clocks follow the enterprise's country and the default city "
        "tier until the TSC names it, and the ticket cannot move past registration without it.",
    )
    service_code: ServiceCode | None = None
    severity: Severity
    summary: NonEmpty
    description: LongText = ""
    contact: Contact
    site: SiteIn | None = Field(
        default=None,
        description="Where the fault is, for the field engineer; defaults to the service's site. "
        "Information only: the SLA terms follow the service's own site.",
    )
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        default=None, description="The caller's own ticket number; unique per enterprise"
    )
    reported_at: Instant | None = Field(
        default=None,
        description="Provider staff only: when a report that came in by phone was received; "
        "the reception clock starts then. Never in the future.",
    )


class ServiceNaming(RequestBody):
    """Provider staff name the affected service of a ticket opened without one (or correct it):
    the clocks still to start follow the service's site; a running clock keeps its target."""

    service_id: uuid.UUID | None = None
    service_code: ServiceCode | None = None


class TicketUpdate(ServiceNaming):
    severity: Severity | None = None
    contact: Contact | None = None
    description: LongText | None = None


class TransitionIn(ServiceNaming):
    to: Stage
    note: LongText | None = None
    eta: Instant | None = Field(
        default=None,
        description="Entering dispatch: when the field engineer will be on site. Required for "
        "a remote site (it becomes the due time); optional elsewhere.",
    )


class HoldIn(RequestBody):
    reason: NonEmpty


class ResumeIn(RequestBody):
    note: LongText | None = None


class NoteVisibility(StrEnum):
    public = "public"
    internal = "internal"


class NoteIn(RequestBody):
    body: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    visibility: NoteVisibility = Field(
        default=NoteVisibility.public,
        description="`internal` notes are seen by provider staff only",
    )


class EscalationIn(RequestBody):
    reason: NonEmpty


class ClockRead(BaseModel):
    stage: Stage
    started_at: datetime
    target: str | None = Field(description="The target this clock started with (ISO 8601)")
    due_at: datetime | None
    completed_at: datetime | None
    paused_seconds: float
    state: str = Field(description="running | paused | met | breached")
    warned_at: datetime | None
    breached_at: datetime | None
    escalation_level: int


class SiteRead(BaseModel):
    address: str
    city: str
    country: str


class TicketRead(BaseModel):
    id: uuid.UUID
    number: str = Field(examples=["TT-2026-000123"])
    enterprise_id: uuid.UUID
    service_id: uuid.UUID | None = Field(description="Null until the service is named")
    severity: Severity
    summary: str
    description: str
    contact: dict[str, Any]
    site: SiteRead | None
    city_tier: CityTier
    status: Status
    stage: Stage
    escalation_level: int = Field(ge=0, le=3)
    breached: bool
    hold_reason: str | None
    sla: list[ClockRead]
    external_id: str | None
    channel: Channel = Field(
        description="How it reached the TSC: `portal` (a person signed in), `api` (a NOC "
        "system on /v1), `tmf621`, `sonata`, `email`"
    )
    reported_at: datetime
    created_at: datetime
    updated_at: datetime
    version: int


class TicketFilters(BaseModel):
    status: Status | None = None
    stage: Stage | None = None
    severity: Severity | None = None
    enterprise_id: uuid.UUID | None = None
    breached: bool | None = None


class PolicyTargets(RequestBody):
    reception: Duration
    registration: Duration
    diagnosis: Duration
    field_repair: Duration
    verification: Duration
    stability: Duration
    closure: Duration


class DispatchTargets(RequestBody):
    main: Duration | None
    intermediate: Duration | None
    remote: Duration | None = Field(
        default=None, description="Null: the engineer sets an ETA on each dispatch"
    )


class SlaPolicyBody(RequestBody):
    targets: PolicyTargets
    dispatch: DispatchTargets
    warning_ratio: float = Field(gt=0, lt=1, examples=[0.75])
    escalation_ratios: list[float] = Field(min_length=3, max_length=3, examples=[[1.0, 1.5, 2.0]])

    @model_validator(mode="after")
    def _ratios(self) -> SlaPolicyBody:
        check_ratios(self.warning_ratio, self.escalation_ratios)
        return self


class SlaPolicyRead(SlaPolicyBody):
    country: str
    version: int
    updated_at: datetime


class StageReport(BaseModel):
    stage: Stage
    met: int
    breached: int
    running: int
    share_met: float | None = Field(description="met / (met + breached); null when none ended")


class ImpactRead(BaseModel):
    ticket_id: uuid.UUID
    number: str
    reported_at: datetime
    restored_at: datetime
    waiting_seconds: float
    time_of_impact_seconds: float = Field(
        description="From report to restoration, the customer's waiting time taken out"
    )
    time_of_impact: str


class SlaReport(BaseModel):
    enterprise_id: uuid.UUID | None
    from_: datetime | None = Field(alias="from")
    to: datetime | None
    stages: list[StageReport]
    closed_tickets: int
    mean_time_to_restore_seconds: float | None
    mean_time_to_restore: str | None
    impacts: list[ImpactRead]

    model_config = {"populate_by_name": True}


__all__ = ["AwareDatetime", "CityTier"]
