"""Seeder of the countries' reference data: directory, escalation, calendars, city tiers."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.models import CountryCalendar
from app.services.directory.city_tiers import seed_city_tiers
from app.services.directory.escalation import seed_escalation
from app.services.directory.rules import (
    DEFAULT_HOLIDAY_CATEGORIES,
    DEFAULT_OFFICE_HOURS_TEXT,
    HANDBOOK_COUNTRIES,
    default_timezone,
)
from app.services.directory.service import seed_directory


async def seed_calendars(session: AsyncSession, clock: Clock) -> None:
    """A calendar row per handbook country, with the defaults; edits are kept."""
    rows = [
        {
            "country": country,
            "timezone": default_timezone(country),
            "office_hours": {k: list(v) for k, v in DEFAULT_OFFICE_HOURS_TEXT.items()},
            "holiday_categories": list(DEFAULT_HOLIDAY_CATEGORIES),
            "version": 1,
            "updated_at": clock.now(),
        }
        for country in HANDBOOK_COUNTRIES
    ]
    await session.execute(insert(CountryCalendar).values(rows).on_conflict_do_nothing())


async def seed_countries(session: AsyncSession, clock: Clock) -> None:
    """Idempotent: reference lines follow the handbook; what admins edit is left alone."""
    await seed_directory(session, clock)
    await seed_escalation(session, clock)
    await seed_calendars(session, clock)
    await seed_city_tiers(session, clock)
