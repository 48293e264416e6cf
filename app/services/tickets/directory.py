"""What tickets ask of the countries directory: a site's city tier, whom to escalate to."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import Db, orm_session
from app.services.calendars.service import calendars_for
from app.services.directory.city_tiers import tier_of
from app.services.directory.escalation import escalation_targets
from app.services.tickets.events import EscalationContacts
from app.services.tickets.rules import CityTier


async def city_tier(db: Db, country: str, city: str) -> CityTier:
    return CityTier(await tier_of(orm_session(db), country, city))


async def escalation_contacts(
    session: AsyncSession, country: str, level: int, at: datetime
) -> EscalationContacts:
    """Whom a level-`level` escalation names (the matrix, or the TSC lines when the country
    has none), and the after-hours line when `at` falls outside office hours."""
    return (await escalation_contacts_of(session, [(country, level)], at))[(country, level)]


async def escalation_contacts_of(
    session: AsyncSession, wanted: Iterable[tuple[str, int]], at: datetime
) -> dict[tuple[str, int], EscalationContacts]:
    """`escalation_contacts` of every `(country, level)` a batch names, keyed as named: the
    matrices in one statement, the calendars in two, whatever the batch's size."""
    targets = await escalation_targets(session, wanted)
    calendars = await calendars_for(session, {country for country, _ in targets})
    open_now = {country: bool(calendar.is_open(at)) for country, calendar in calendars.items()}
    contacts: dict[tuple[str, int], EscalationContacts] = {}
    for (country, level), target in targets.items():
        office_hours = open_now[country]
        contacts[(country, level)] = EscalationContacts(
            level=level,
            matrix_level=target.level,
            role=target.role,
            phones=target.phones,
            fallback=target.fallback,
            office_hours=office_hours,
            after_hours=None if office_hours else target.after_hours,
        )
    return contacts
