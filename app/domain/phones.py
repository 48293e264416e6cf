"""Phone numbers as the handbooks print them, and as E.164 when that is certain."""

from __future__ import annotations

import re

import phonenumbers
from pydantic import BaseModel, Field

# Mexico dropped the `01` long-distance prefix in 2019: the handbooks'
# `01-800` numbers are dialled today as `800`.
_MEXICAN_LONG_DISTANCE = re.compile(r"^\s*01[\s-]*")


class PhoneNumber(BaseModel):
    display: str = Field(description="As the handbook (or the customer) wrote it")
    e164: str | None = Field(
        description="E.164, normalised with libphonenumber; null when the number "
        "cannot be normalised with certainty (never a wrong number)"
    )


def _valid_e164(text: str, country: str) -> str | None:
    try:
        parsed = phonenumbers.parse(text, country.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def to_e164(display: str, country: str) -> str | None:
    """E.164 of a number as printed for `country`, or None when it does not validate."""
    e164 = _valid_e164(display, country)
    if e164 is None and country.upper() == "MX" and _MEXICAN_LONG_DISTANCE.match(display):
        e164 = _valid_e164(_MEXICAN_LONG_DISTANCE.sub("", display, count=1), country)
    return e164


def phone(display: str, country: str) -> PhoneNumber:
    """A printed number with its E.164 form (None when it does not validate)."""
    return PhoneNumber(display=display, e164=to_e164(display, country))


def parse_phone(text: str, country: str) -> PhoneNumber:
    """A number a person typed: it must validate for `country`, or ValueError."""
    e164 = to_e164(text, country)
    if e164 is None:
        raise ValueError(f"{text!r} is not a valid phone number for {country.upper()}")
    return PhoneNumber(display=text, e164=e164)
