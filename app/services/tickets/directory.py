"""What tickets ask of the countries directory: a site's city tier, whom to escalate to.

Thin adapters over the countries feature (`app.services.city_tiers`,
`app.services.escalation`, `app.services.calendars`).
"""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.sla import CityTier


def _contract(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:  # pragma: no cover - until the countries feature is merged
        return None


async def city_tier(session: AsyncSession, country: str, city: str) -> CityTier:
    mod = _contract("app.services.city_tiers")
    if mod is None:
        return CityTier.intermediate
    return CityTier(await mod.tier_of(session, country, city))


def _phone(p: Any) -> dict[str, Any]:
    return {"display": p.display, "e164": p.e164}


async def escalation_contacts(
    session: AsyncSession, country: str, level: int, at: datetime
) -> dict[str, Any]:
    """Whom a level-`level` escalation names, and the after-hours line outside office hours."""
    mod = _contract("app.services.escalation")
    if mod is None:
        return {"level": level, "role": None, "phones": [], "after_hours": None, "fallback": True}
    target = await mod.escalation_target(session, country, level)
    answer: dict[str, Any] = {
        "level": level,
        "role": target.role,
        "phones": [_phone(p) for p in target.phones],
        "fallback": bool(target.fallback),
        "after_hours": None,
        "office_hours": True,
    }
    calendars = _contract("app.services.calendars")
    if calendars is not None:
        calendar = await calendars.calendar_for(session, country)
        open_now = bool(calendar.is_open(at))
        answer["office_hours"] = open_now
        if not open_now and target.after_hours is not None:
            answer["after_hours"] = _phone(target.after_hours)
    return answer
