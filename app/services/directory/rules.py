"""The directory's pure rules: country profiles (main cities, city-name matching) and phone
numbers as the handbooks print them, and as E.164 when that is certain."""

from __future__ import annotations

import re
import unicodedata
from datetime import time
from functools import lru_cache
from importlib import resources
from typing import Literal

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


@lru_cache(maxsize=4096)
def to_e164(display: str, country: str) -> str | None:
    """E.164 of a number as printed for `country`, or None when it does not validate.
    Remembered: libphonenumber takes ~0.1 ms a number, and the SLA engine names the same
    matrix phones in every escalation it records."""
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


CityTierName = Literal["main", "intermediate", "remote"]

CITY_TIERS: tuple[CityTierName, ...] = ("main", "intermediate", "remote")

DEFAULT_TIER: CityTierName = "intermediate"

# The handbook countries, each with the zone of its capital or main office
# (Quito is America/Guayaquil in the tz database).
HANDBOOK_COUNTRIES = ("AR", "BR", "CL", "CO", "CR", "EC", "MX", "PA", "PE", "US", "VE")

_TIMEZONES = {
    "AR": "America/Argentina/Buenos_Aires",
    "BR": "America/Sao_Paulo",
    "CL": "America/Santiago",
    "CO": "America/Bogota",
    "CR": "America/Costa_Rica",
    "EC": "America/Guayaquil",
    "MX": "America/Mexico_City",
    "PA": "America/Panama",
    "PE": "America/Lima",
    "US": "America/New_York",
    "VE": "America/Caracas",
}

# Brazil: Carnival and Corpus Christi are "pontos facultativos" (the `optional`
# category of the `holidays` package), not national public holidays. Deadlines
# count them as business days by default, the stricter reading for the
# provider; a provider admin may add "optional" to Brazil's holiday
# categories, or close single days, through the calendar API.
DEFAULT_HOLIDAY_CATEGORIES: tuple[str, ...] = ("public",)

DEFAULT_OFFICE_HOURS_TEXT = {str(d): ("09:00", "18:00") for d in range(5)}


@lru_cache
def _zone_tab() -> dict[str, str]:
    """The first zone tzdata lists for each country (zone.tab), for countries we do not map."""
    zones: dict[str, str] = {}
    try:
        text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text()
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - tzdata is installed
        return zones
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) >= 3:
            zones.setdefault(parts[0], parts[2])
    return zones


def default_timezone(country: str) -> str:
    code = country.upper()
    return _TIMEZONES.get(code) or _zone_tab().get(code) or "UTC"


def office_hours_from_text(
    raw: dict[str, list[str] | tuple[str, str]],
) -> dict[int, tuple[time, time]]:
    return {int(day): (time.fromisoformat(o), time.fromisoformat(c)) for day, (o, c) in raw.items()}


def office_hours_to_text(hours: dict[int, tuple[time, time]]) -> dict[str, list[str]]:
    return {
        str(day): [o.strftime("%H:%M"), c.strftime("%H:%M")]
        for day, (o, c) in sorted(hours.items())
    }


_NON_WORD = re.compile(r"[^0-9a-z]+")


def city_key(name: str) -> str:
    """A city name without case, accents or punctuation: 'São Paulo' -> 'sao paulo'."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", stripped).strip()


# Each handbook country's capital and largest metropolitan areas: dispatch to
# them is the handbook's "main city" target. Anything else is intermediate
# until a provider admin says otherwise.
MAIN_CITIES: dict[str, tuple[str, ...]] = {
    "AR": ("Buenos Aires", "Córdoba", "Rosario", "Mendoza", "La Plata", "San Miguel de Tucumán"),
    "BR": (
        "Brasília",
        "São Paulo",
        "Rio de Janeiro",
        "Belo Horizonte",
        "Porto Alegre",
        "Curitiba",
        "Salvador",
        "Recife",
        "Fortaleza",
        "Campinas",
        "Manaus",
    ),
    "CL": ("Santiago", "Valparaíso", "Viña del Mar", "Concepción", "Antofagasta"),
    "CO": ("Bogotá", "Medellín", "Cali", "Barranquilla", "Cartagena", "Bucaramanga"),
    "CR": ("San José", "Alajuela", "Heredia", "Cartago"),
    "EC": ("Quito", "Guayaquil", "Cuenca"),
    "MX": (
        "Ciudad de México",
        "Mexico City",
        "CDMX",
        "Guadalajara",
        "Monterrey",
        "Puebla",
        "Tijuana",
        "Querétaro",
    ),
    "PA": ("Panamá", "Ciudad de Panamá", "Panama City", "Colón"),
    "PE": ("Lima", "Callao", "Arequipa", "Trujillo"),
    "US": (
        "Washington",
        "New York",
        "Los Angeles",
        "Chicago",
        "Houston",
        "Dallas",
        "Miami",
        "Atlanta",
    ),
    "VE": ("Caracas", "Maracaibo", "Valencia", "Barquisimeto"),
}
