"""Shared request/response building blocks."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic.networks import validate_email

from app.core.clock import Instant as Instant  # input times: aware, representable in UTC
from app.core.countries import COUNTRY_CODES


class RequestBody(BaseModel):
    """Every request body: unknown fields are refused, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)


NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=200)]


# email-validator's checks (IDNA, Unicode classes) cost more CPU than the rest of a ticket's
# body, and the same few addresses (a NOC's duty desk) come back on every ticket: each address
# is checked once per process. A refused one is not remembered, and refused again the same way.
@lru_cache(maxsize=4096)
def _checked_email(value: str) -> str:
    return validate_email(value)[1]


# pydantic's `EmailStr`: the same check, answer, errors and schema, its verdicts remembered.
Email = Annotated[
    str, AfterValidator(_checked_email), WithJsonSchema({"type": "string", "format": "email"})
]

LongText = Annotated[str, StringConstraints(max_length=10_000)]

CountryCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z]{2}$", to_upper=True),
    # The document lists the codes the API accepts (any case), not just their shape.
    Field(json_schema_extra={"enum": sorted(COUNTRY_CODES)}),
]


def check_country(code: str) -> str:
    if code.upper() not in COUNTRY_CODES:
        raise ValueError(f"{code} is not an ISO 3166-1 alpha-2 country code")
    return code.upper()


def ends_after_start(end: datetime, info: ValidationInfo) -> datetime:
    """A field validator for `end`, reused as `field_validator("end")(ends_after_start)`."""
    start = info.data.get("start")
    if start is not None and end <= start:
        raise ValueError("end must be after start")
    return end
