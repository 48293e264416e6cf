"""What tickets ask of the countries directory: a site's city tier, whom to escalate to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.services.calendars.service import calendar_for
from app.services.directory.city_tiers import tier_of
from app.services.directory.escalation import escalation_target
from app.services.tickets.events import EscalationContacts
from app.services.tickets.rules import CityTier


async def city_tier(session: AsyncSession, country: str, city: str) -> CityTier:
    return CityTier(await tier_of(session, country, city))


async def escalation_contacts(
    session: AsyncSession, country: str, level: int, at: datetime
) -> EscalationContacts:
    """Whom a level-`level` escalation names (the matrix, or the TSC lines when the country
    has none), and the after-hours line when `at` falls outside office hours."""
    target = await escalation_target(session, country, level)
    calendar = await calendar_for(session, country)
    office_hours = bool(calendar.is_open(at))
    return EscalationContacts(
        level=level,
        matrix_level=target.level,
        role=target.role,
        phones=target.phones,
        fallback=target.fallback,
        office_hours=office_hours,
        after_hours=None if office_hours else target.after_hours,
    )
