"""Business time on an enterprise country's calendar (the countries feature's calendars)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.services.calendars import calendar_for


async def zone_of(session: AsyncSession, country: str) -> ZoneInfo:
    calendar = await calendar_for(session, country)
    zone = calendar.timezone
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(str(zone))


async def due_after(session: AsyncSession, country: str, start: datetime, hours: int) -> datetime:
    """`hours` business hours after `start` on the country's calendar."""
    calendar = await calendar_for(session, country)
    due: datetime = calendar.add_business_hours(start, hours)
    return due


async def is_business_time(session: AsyncSession, country: str, at: datetime) -> bool:
    calendar = await calendar_for(session, country)
    return bool(calendar.is_open(at))
