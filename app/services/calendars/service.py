"""Business calendars per country (time zone, office hours, holidays, extra closed days), and
business time on an enterprise country's calendar."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.countries import COUNTRY_CODES
from app.core.database import driver_connection
from app.core.errors import NotFound, field_error
from app.core.etag import check_if_match
from app.core.idempotency import IdempotencyClaim, commit_creation
from app.core.pagination import Page, PageParams, page_in_order
from app.core.row_versions import new_version
from app.models import ClosedDay, CountryCalendar
from app.services.calendars.rules import BusinessCalendar
from app.services.calendars.schemas import (
    CalendarRead,
    CalendarWrite,
    ClosedDayRead,
    ClosedDayWrite,
    DueRead,
    HolidayRead,
    OfficeHoursDay,
)
from app.services.directory.rules import (
    DEFAULT_HOLIDAY_CATEGORIES,
    DEFAULT_OFFICE_HOURS_TEXT,
    default_timezone,
    office_hours_from_text,
    office_hours_to_text,
)

# Public holidays are computed for this span of years (cheap, and cached):
# wide enough for any deadline a request may ask about.
FIRST_YEAR = 2000

LAST_YEAR = 2075

MAX_BUSINESS_HOURS = 24 * 366


def require_country(country: str, field: str | None = None) -> str:
    """An ISO country code we know; unknown: 404 in a path, 422 naming `field` in a query."""
    code = country.upper()
    if len(code) != 2 or not country.isascii() or code not in COUNTRY_CODES:
        if field is not None:
            raise field_error(field, f"{country!r} is not a known ISO 3166-1 alpha-2 country")
        raise NotFound(f"country {country} is not known")
    return code


def _holiday_object(country: str, categories: tuple[str, ...], years: range) -> dict[date, str]:
    try:
        supported = holidays_lib.country_holidays(country).supported_categories
    except NotImplementedError:
        return {}
    wanted = tuple(c for c in categories if c in supported) or ("public",)
    with warnings.catch_warnings():
        # Some calendars (lunar ones) are known only for part of the span; they
        # say so with a warning, and give what they know.
        warnings.simplefilter("ignore")
        found = holidays_lib.country_holidays(country, years=years, categories=wanted)
    return {day: str(name) for day, name in found.items()}


@lru_cache(maxsize=256)
def public_holidays(country: str, categories: tuple[str, ...]) -> dict[date, str]:
    """Every holiday of the country in [FIRST_YEAR, LAST_YEAR], by date."""
    return _holiday_object(country, categories, range(FIRST_YEAR, LAST_YEAR + 1))


def supported_categories(country: str) -> tuple[str, ...]:
    try:
        return tuple(sorted(holidays_lib.country_holidays(country).supported_categories))
    except NotImplementedError:
        return ("public",)


async def _calendar_row(session: AsyncSession, country: str) -> CountryCalendar | None:
    return (
        await session.execute(select(CountryCalendar).where(CountryCalendar.country == country))
    ).scalar_one_or_none()


async def _closed_days(session: AsyncSession, country: str) -> list[ClosedDay]:
    rows = await session.execute(
        select(ClosedDay).where(ClosedDay.country == country).order_by(ClosedDay.day)
    )
    return list(rows.scalars().all())


def _settings(row: Any, country: str) -> tuple[str, dict[int, tuple[time, time]], tuple[str, ...]]:
    """Zone, office hours and holiday categories of a `CountryCalendar` (or a row of its
    columns); None: the country's defaults."""
    if row is None:
        return (
            default_timezone(country),
            office_hours_from_text(dict(DEFAULT_OFFICE_HOURS_TEXT)),
            DEFAULT_HOLIDAY_CATEGORIES,
        )
    return row.timezone, office_hours_from_text(row.office_hours), tuple(row.holiday_categories)


async def calendar_for(session: AsyncSession, country: str) -> BusinessCalendar:
    """The country's business calendar: its office hours, holidays and extra closed days.

    Defaults (the capital's zone, Monday-Friday 09:00-18:00, public holidays)
    when the country has no row. An unknown country is a 404 problem.
    """
    return (await calendars_for(session, [country]))[country]


async def calendars_for(
    session: AsyncSession, countries: Iterable[str]
) -> dict[str, BusinessCalendar]:
    """`calendar_for` of several countries at once (keyed as given): one statement whatever
    their number, for a batch that needs the calendars of the countries it names."""
    codes = {country: require_country(country) for country in countries}
    if not codes:
        return {}
    driver = await driver_connection(session)
    calendars: dict[str, BusinessCalendar] = {}
    for record in await driver.fetch(_CALENDARS, sorted(set(codes.values()))):
        row = _CalendarRow._make(record)
        zone, hours, categories = _settings(row if row.timezone is not None else None, row.code)
        holidays = _holiday_dates(row.code, categories)
        calendars[row.code] = BusinessCalendar(
            timezone=zone,
            office_hours=hours,
            closed_dates=holidays.union(row.closed) if row.closed else holidays,
        )
    return {country: calendars[code] for country, code in codes.items()}


@lru_cache(maxsize=256)
def _holiday_dates(country: str, categories: tuple[str, ...]) -> frozenset[date]:
    return frozenset(public_holidays(country, categories))


# Each country's calendar row (NULLs: none, the defaults) with its extra closed days, for a set
# of countries given as one array (one prepared statement whatever their count); plain SQL on
# the driver, as the SLA engine and the mail fan-out ask it on every batch. The office hours
# come as JSON text (the driver leaves jsonb undecoded).
_CALENDARS = """
SELECT k.code, c.timezone, c.office_hours::text, c.holiday_categories,
       ARRAY(SELECT d.day FROM closed_days d WHERE d.country = k.code) AS closed
FROM unnest($1::varchar[]) AS k(code)
LEFT JOIN country_calendars c ON c.country = k.code
"""


class _CalendarRow(NamedTuple):
    """A row of `_CALENDARS`, with the names `_settings` reads."""

    code: str
    timezone: str | None
    office_hours_json: str | None
    holiday_categories: list[str] | None
    closed: list[date]

    @property
    def office_hours(self) -> Any:
        return None if self.office_hours_json is None else json.loads(self.office_hours_json)


def _read(country: str, row: CountryCalendar | None) -> CalendarRead:
    zone, hours, categories = _settings(row, country)
    return CalendarRead(
        country=country,
        timezone=zone,
        office_hours=[
            OfficeHoursDay(weekday=day, opens=o, closes=c) for day, (o, c) in sorted(hours.items())
        ],
        holiday_categories=list(categories),
        version=row.version if row is not None else None,
    )


async def get_calendar(session: AsyncSession, country: str) -> CalendarRead:
    code = require_country(country)
    return _read(code, await _calendar_row(session, code))


async def update_calendar(
    session: AsyncSession, clock: Clock, country: str, payload: CalendarWrite, if_match: str | None
) -> CalendarRead:
    code = require_country(country)
    row = (
        await session.execute(
            select(CountryCalendar).where(CountryCalendar.country == code).with_for_update()
        )
    ).scalar_one_or_none()
    if row is not None:
        check_if_match(if_match, row.version)
    zone, hours, categories = _settings(row, code)
    if payload.timezone is not None:
        try:
            ZoneInfo(payload.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise field_error("timezone", f"{payload.timezone!r} is not an IANA time zone") from exc
        zone = payload.timezone
    if payload.office_hours is not None:
        days = [d.weekday for d in payload.office_hours]
        if len(set(days)) != len(days):
            raise field_error("office_hours", "a weekday is listed twice")
        for d in payload.office_hours:
            if not d.opens < d.closes:
                raise field_error("office_hours", f"weekday {d.weekday} opens after it closes")
        if not payload.office_hours:
            raise field_error("office_hours", "at least one weekday must have office hours")
        hours = {d.weekday: (d.opens, d.closes) for d in payload.office_hours}
    if payload.holiday_categories is not None:
        allowed = supported_categories(code)
        for category in payload.holiday_categories:
            if category not in allowed:
                raise field_error(
                    "holiday_categories",
                    f"{category!r} is not one of {', '.join(allowed)} for {code}",
                )
        categories = tuple(dict.fromkeys(payload.holiday_categories))
    now = clock.now()
    if row is None:
        row = CountryCalendar(country=code, version=0, updated_at=now)
        session.add(row)
    row.timezone = zone
    row.office_hours = office_hours_to_text(hours)
    row.holiday_categories = list(categories)
    new_version(row, now)
    await session.flush()
    answer = _read(code, row)
    await session.commit()
    return answer


async def list_closed_days(
    session: AsyncSession, country: str, params: PageParams
) -> Page[ClosedDayRead]:
    code = require_country(country)
    days = await _closed_days(session, code)
    page, cursor = page_in_order(days, params, lambda d: (d.day.isoformat(),))
    return Page(
        items=[ClosedDayRead(country=code, date=d.day, reason=d.reason) for d in page],
        next_cursor=cursor,
    )


async def add_closed_day(
    session: AsyncSession,
    clock: Clock,
    claim: IdempotencyClaim | None,
    country: str,
    payload: ClosedDayWrite,
) -> ClosedDayRead:
    code = require_country(country)
    if not FIRST_YEAR <= payload.date.year <= LAST_YEAR:
        raise field_error("date", f"must be in {FIRST_YEAR}-{LAST_YEAR}")
    stmt = insert(ClosedDay).values(
        country=code, day=payload.date, reason=payload.reason, created_at=clock.now()
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[ClosedDay.country, ClosedDay.day], set_={"reason": payload.reason}
        )
    )
    answer = ClosedDayRead(country=code, date=payload.date, reason=payload.reason)
    await commit_creation(session, claim, answer)
    return answer


async def remove_closed_day(session: AsyncSession, country: str, day: date) -> None:
    code = require_country(country)
    result = await session.execute(
        delete(ClosedDay).where(ClosedDay.country == code, ClosedDay.day == day)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"{day} is not an extra closed day of {code}")
    await session.commit()


async def holidays_of(
    session: AsyncSession, country: str, year: int, params: PageParams
) -> Page[HolidayRead]:
    code = require_country(country)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise field_error("year", f"must be in {FIRST_YEAR}-{LAST_YEAR}")
    _zone, _hours, categories = _settings(await _calendar_row(session, code), code)
    items = [
        HolidayRead(date=day, name=name, source="public_holiday")
        for day, name in public_holidays(code, categories).items()
        if day.year == year
    ]
    items += [
        HolidayRead(date=d.day, name=d.reason, source="closed_day")
        for d in await _closed_days(session, code)
        if d.day.year == year
    ]
    page, cursor = page_in_order(items, params, lambda h: (h.date.isoformat(), h.source, h.name))
    return Page(items=page, next_cursor=cursor)


async def due_at(
    session: AsyncSession, country: str, start: datetime, business_hours: float
) -> DueRead:
    code = require_country(country)
    if not 0 <= business_hours <= MAX_BUSINESS_HOURS:
        raise field_error("business_hours", f"must be between 0 and {MAX_BUSINESS_HOURS}")
    try:
        in_range = FIRST_YEAR <= start.astimezone(UTC).year < LAST_YEAR
    except OverflowError:
        in_range = False
    if not in_range:
        raise field_error("start", f"must be in {FIRST_YEAR}-{LAST_YEAR - 1}")
    calendar = await calendar_for(session, code)
    due = calendar.add_business_hours(start, timedelta(hours=business_hours))
    return DueRead(
        country=code,
        start=start,
        business_hours=business_hours,
        due_at=due,
        due_at_local=due.astimezone(calendar.zone),
        timezone=calendar.timezone,
    )


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
