"""When a change may be executed: in the enterprise country's business hours, or inside the
window the customer asked for."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import Unprocessable, field_error
from app.core.time_bounds import span_problem
from app.models import ChangeRequest, Enterprise
from app.services.calendars.service import is_business_time


def check_span(prefix: str, start: datetime, end: datetime, now: datetime) -> None:
    problem = span_problem(start, end, now)
    if problem is not None:
        raise field_error(prefix + problem[0], problem[1])


async def check_execution_time(
    session: AsyncSession, row: ChangeRequest, start: datetime, end: datetime
) -> None:
    """A 422 on `start` unless the work falls inside the customer's window or in business
    hours of the enterprise's country."""
    in_window = (
        row.window_start is not None
        and row.window_end is not None
        and row.window_start <= start
        and end <= row.window_end
    )
    if in_window:
        return
    country = (
        await session.execute(select(Enterprise.country).where(Enterprise.id == row.enterprise_id))
    ).scalar_one()
    if not await _within_business_hours(session, country, start, end):
        raise Unprocessable(
            "execution must fall in business hours or inside the customer's window",
            errors=[
                {
                    "field": "start",
                    "message": "outside business hours and outside the requested window",
                }
            ],
        )


async def _within_business_hours(
    session: AsyncSession, country: str, start: datetime, end: datetime
) -> bool:
    """Every half hour of the work, and its last second, fall in office hours."""
    if end - start > timedelta(hours=24):
        return False
    probes = [
        start + timedelta(minutes=30 * k)
        for k in range(48)
        if start + timedelta(minutes=30 * k) < end
    ]
    probes.append(end - timedelta(seconds=1))
    for at in probes:
        if not await is_business_time(session, country, at):
            return False
    return True
