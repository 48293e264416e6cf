"""Directory, escalation, account team, notification contacts and city tiers."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum, auto
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from app.core.event_registry import names_an_event
from app.core.schemas import Email, NonEmpty, RequestBody, ResponseBody
from app.services.directory.rules import CityTierName, PhoneNumber

PhoneText = Annotated[str, StringConstraints(min_length=3, max_length=40)]


class Purpose(StrEnum):
    technical_support = auto()
    billing = auto()
    sales = auto()
    after_hours = auto()


class Language(StrEnum):
    es = auto()
    pt = auto()
    en = auto()


class DirectoryLineRead(ResponseBody):
    country: str
    purpose: Purpose
    services: list[str] = Field(description="Product lines served; empty: every service")
    toll_free: PhoneNumber | None
    local: list[PhoneNumber]
    extension: str | None
    description: str | None


class OfficeRead(ResponseBody):
    country: str
    name: str | None
    phone: PhoneNumber
    addresses: list[str]


class PortalRead(ResponseBody):
    country: str
    portals: list[Literal["customer_portal", "control_center"]] = Field(
        description="Where the country's customers file requests; two when the handbooks disagree"
    )
    note: str | None = Field(description="Why there are two readings, when there are")


class BillingMailboxRead(ResponseBody):
    country: str
    mailbox: str | None = Field(
        description="Where PO, HES and MIGO numbers and other invoice requirements go"
    )
    handles: list[str] = Field(default_factory=lambda: ["PO", "HES", "MIGO"])


class EscalationLevelRead(ResponseBody):
    level: int
    role: str
    phones: list[PhoneNumber]


class EscalationMatrixRead(ResponseBody):
    country: str
    levels: list[EscalationLevelRead]
    after_hours: PhoneNumber | None
    fallback: bool = Field(
        description="True when the country has no matrix: call its TSC lines (`fallback_lines`)"
    )
    fallback_lines: list[DirectoryLineRead] = Field(default_factory=list)
    version: int | None = None


class EscalationTarget(ResponseBody):
    """Whom to call at an escalation level; the TSC lines when the country has no matrix."""

    level: int
    role: str
    phones: list[PhoneNumber]
    after_hours: PhoneNumber | None
    fallback: bool


class EscalationLevelWrite(RequestBody):
    level: Annotated[int, Field(ge=1, le=9)]
    role: NonEmpty
    phones: Annotated[list[PhoneText], Field(min_length=1, max_length=10)]


class EscalationMatrixWrite(RequestBody):
    levels: Annotated[list[EscalationLevelWrite], Field(max_length=9)] = Field(
        description="Empty: the country has no matrix; escalation falls back to its TSC lines"
    )
    after_hours: PhoneText | None = None


class AccountRole(StrEnum):
    account_manager = auto()
    sales_engineer = auto()
    customer_care_manager = auto()
    service_manager = auto()
    customer_service_manager = auto()
    client_support_manager = auto()


class ProductArea(StrEnum):
    data = auto()
    data_center = auto()
    voice = auto()


class AccountTeamMemberWrite(RequestBody):
    role: AccountRole
    product_area: ProductArea | None = Field(
        default=None, description="Required for a sales engineer (one per area), else absent"
    )
    name: NonEmpty
    email: Email
    phone: PhoneText | None = None


class AccountTeamWrite(RequestBody):
    members: Annotated[list[AccountTeamMemberWrite], Field(max_length=20)]


class AccountTeamMemberRead(ResponseBody):
    role: AccountRole
    product_area: ProductArea | None
    name: str
    email: str
    phone: PhoneNumber | None


class AccountTeamRead(ResponseBody):
    enterprise_id: uuid.UUID
    members: list[AccountTeamMemberRead]
    updated_at: datetime | None


EventPattern = Annotated[str, StringConstraints(min_length=1, max_length=64)]


def _check_patterns(patterns: list[str] | None) -> list[str] | None:
    if patterns is None:
        return None
    for pattern in patterns:
        if not names_an_event(pattern):
            raise ValueError(f"{pattern!r} names no event")
    return patterns


class ContactCreate(RequestBody):
    name: NonEmpty
    email: Email
    phone: PhoneText | None = Field(
        default=None, description="Must parse for the enterprise's country"
    )
    language: Language | None = Field(
        default=None, description="Defaults by the enterprise's country: BR pt, US en, else es"
    )
    events: Annotated[list[EventPattern], Field(min_length=1, max_length=50)] = Field(
        description="Event patterns, e.g. `ticket.*`, `billing.acknowledged`"
    )

    _events = field_validator("events")(_check_patterns)


class ContactUpdate(RequestBody):
    name: NonEmpty | None = None
    email: Email | None = None
    phone: PhoneText | None = None
    language: Language | None = None
    events: Annotated[list[EventPattern], Field(min_length=1, max_length=50)] | None = None

    _events = field_validator("events")(_check_patterns)


class ContactRead(ResponseBody):
    id: uuid.UUID
    enterprise_id: uuid.UUID
    name: str
    email: str
    phone: PhoneNumber | None
    language: Language
    events: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class CityTierWrite(RequestBody):
    tier: CityTierName


class CityTierRead(ResponseBody):
    country: str
    city: str
    tier: CityTierName
    listed: bool = Field(description="False: not in the table, so the default tier")
