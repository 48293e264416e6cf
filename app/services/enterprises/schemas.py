"""Enterprises, accounts and services."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum, auto
from typing import Annotated

from pydantic import AfterValidator, Field

from app.core.schemas import CountryCode, NonEmpty, RequestBody, ResponseBody, check_country

Country = Annotated[CountryCode, AfterValidator(check_country)]


class ProductLine(StrEnum):
    data = auto()
    voice = auto()
    cdn = auto()
    data_center = auto()
    managed = auto()
    vyvx = auto()
    satellite = auto()


class Segment(StrEnum):
    enterprise = auto()
    wholesale = auto()
    government = auto()


class EnterpriseCreate(RequestBody):
    name: NonEmpty
    country: Country = Field(description="ISO 3166-1 alpha-2 country of the customer")
    segment: Segment = Segment.enterprise


class EnterpriseUpdate(RequestBody):
    name: NonEmpty | None = None
    country: Country | None = None
    segment: Segment | None = None


class EnterpriseRead(ResponseBody):
    id: uuid.UUID = Field(description="The enterprise ID shown in the customer portal")
    name: str
    country: str
    segment: str
    version: int
    created_at: datetime
    updated_at: datetime


class AccountCreate(RequestBody):
    number: NonEmpty
    name: NonEmpty
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")] = "USD"


class AccountRead(ResponseBody):
    id: uuid.UUID
    enterprise_id: uuid.UUID
    number: str
    name: str
    currency: str
    created_at: datetime
    updated_at: datetime


class Site(RequestBody):
    address: NonEmpty
    city: NonEmpty
    country: Country


class ServiceCreate(RequestBody):
    code: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._/-]+$")] = Field(
        description="The customer-facing service code printed on invoices and tickets"
    )
    product_line: ProductLine
    description: Annotated[str, Field(max_length=500)] = ""
    account_id: uuid.UUID | None = None
    site: Site


class SiteRead(ResponseBody):
    address: str
    city: str
    country: str


class ServiceRead(ResponseBody):
    id: uuid.UUID
    enterprise_id: uuid.UUID
    account_id: uuid.UUID | None
    code: str
    product_line: str
    description: str
    status: str
    site: SiteRead
    version: int
    created_at: datetime
    updated_at: datetime
