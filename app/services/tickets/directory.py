"""What tickets ask of the countries directory: a site's city tier, whom to escalate to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.services.calendars.service import calendar_for
from app.services.directory.city_tiers import tier_of
from app.services.directory.escalation import escalation_target
from app.services.tickets.rules import CityTier


async def city_tier(session: AsyncSession, country: str, city: str) -> CityTier:
    return CityTier(await tier_of(session, country, city))


async def escalation_contacts(
    session: AsyncSession, country: str, level: int, at: datetime
) -> dict[str, Any]:
    """Whom a level-`level` escalation names (the matrix, or the TSC lines when the country
    has none), and the after-hours line when `at` falls outside office hours."""
    target = await escalation_target(session, country, level)
    calendar = await calendar_for(session, country)
    office_hours = bool(calendar.is_open(at))
    after_hours = None
    if not office_hours and target.after_hours is not None:
        after_hours = target.after_hours.model_dump()
    return {
        "level": level,
        "matrix_level": target.level,
        "role": target.role,
        "phones": [p.model_dump() for p in target.phones],
        "fallback": target.fallback,
        "office_hours": office_hours,
        "after_hours": after_hours,
    }
