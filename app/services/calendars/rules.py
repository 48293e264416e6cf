"""Business time on a country's calendar: pure rules, no I/O.

Two notions live here and must not be confused:

* **Office hours** (`is_open`): the instants the office answers the phone,
  e.g. Monday to Friday 09:00-18:00 local. Used for after-hours escalation.
* **Business hours** (`add_business_hours`, `business_hours_between`): the
  handbooks' "48 business hours" deadlines. A business hour is an hour of
  elapsed time that falls on a **business day**: a local calendar day whose
  weekday has office hours and which is not a closed date (public holiday or
  extra closed day). The whole business day counts, from local midnight to
  the next local midnight; weekends and holidays add nothing.

  So 48 business hours from Friday 17:00 is Tuesday 17:00 when Monday and
  Tuesday are working days (7 h of Friday, 24 h of Monday, 17 h of Tuesday),
  and from Friday 30 October 2026 17:00 in Quito, with 2 and 3 November
  holidays, it is Thursday 5 November 17:00.

  Time is measured as real elapsed time (UTC), so a business day on which
  the clocks change counts its true 23 or 25 hours; the day's bounds are the
  local midnights (where midnight does not exist, the instant the clocks
  jump). In the region's zones the changes fall on weekends, so a deadline
  that crosses one still lands on the same local wall time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

ZERO = timedelta(0)

DEFAULT_OPEN = time(9, 0)

DEFAULT_CLOSE = time(18, 0)

DEFAULT_OFFICE_HOURS: Mapping[int, tuple[time, time]] = MappingProxyType(
    {weekday: (DEFAULT_OPEN, DEFAULT_CLOSE) for weekday in range(5)}
)

# A calendar with no business day in sight is a misconfiguration, not a reason
# to loop for ever: give up after this many consecutive closed days.
_MAX_CLOSED_RUN = 400


def _aware(at: datetime, name: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return at


def _as_timedelta(hours: float | timedelta) -> timedelta:
    if isinstance(hours, timedelta):
        return hours
    return timedelta(hours=hours)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """A country's working calendar.

    `office_hours` maps a weekday (0 = Monday) to its (open, close) local times;
    a weekday missing from it is closed. `closed_dates` are local dates on which
    the office is closed (public holidays and extra closed days).
    """

    timezone: str
    office_hours: Mapping[int, tuple[time, time]] = field(
        default_factory=lambda: DEFAULT_OFFICE_HOURS
    )
    closed_dates: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # raises for an unknown zone
        for weekday, (opens, closes) in self.office_hours.items():
            if not 0 <= weekday <= 6:
                raise ValueError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
            if not opens < closes:
                raise ValueError(f"weekday {weekday}: opening must be before closing")
        object.__setattr__(self, "office_hours", MappingProxyType(dict(self.office_hours)))
        object.__setattr__(self, "closed_dates", frozenset(self.closed_dates))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    # -- days -------------------------------------------------------------

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.office_hours and day not in self.closed_dates

    def local_date(self, at: datetime) -> date:
        return _aware(at, "at").astimezone(self.zone).date()

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """The UTC instants where local `day` starts and the next day starts."""
        zone = self.zone
        start = datetime.combine(day, time(0), zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
        return start, end

    def _business_days_from(self, day: date) -> Iterator[tuple[date, datetime, datetime]]:
        closed_run = 0
        while True:
            if self.is_business_day(day):
                closed_run = 0
                yield (day, *self.day_bounds(day))
            else:
                closed_run += 1
                if closed_run > _MAX_CLOSED_RUN:
                    raise ValueError("the calendar has no business day in sight")
            day += timedelta(days=1)

    # -- office hours -----------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        """Whether the office is open at this instant (office hours on a business day)."""
        local = _aware(at, "at").astimezone(self.zone)
        if not self.is_business_day(local.date()):
            return False
        opens, closes = self.office_hours[local.weekday()]
        return opens <= local.time().replace(tzinfo=None) < closes

    # -- business hours ---------------------------------------------------

    def add_business_hours(self, start: datetime, hours: float | timedelta) -> datetime:
        """The instant (aware, UTC) after `hours` business hours from `start`.

        Zero hours answer `start` itself. A deadline that ends exactly at the
        end of a business day answers the next local midnight.
        """
        start = _aware(start, "start").astimezone(UTC)
        remaining = _as_timedelta(hours)
        if remaining < ZERO:
            raise ValueError("hours must not be negative")
        if remaining == ZERO:
            return start
        for _day, day_start, day_end in self._business_days_from(self.local_date(start)):
            if day_end <= start:
                continue
            begin = max(start, day_start)
            available = day_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover

    def business_hours_between(self, start: datetime, end: datetime) -> timedelta:
        """Business time elapsed from `start` to `end` (negative when `end` is earlier)."""
        start = _aware(start, "start").astimezone(UTC)
        end = _aware(end, "end").astimezone(UTC)
        if end < start:
            return -self.business_hours_between(end, start)
        total = ZERO
        day = self.local_date(start)
        last = self.local_date(end)
        while day <= last:
            if self.is_business_day(day):
                day_start, day_end = self.day_bounds(day)
                overlap = min(end, day_end) - max(start, day_start)
                if overlap > ZERO:
                    total += overlap
            day += timedelta(days=1)
        return total

    def next_open(self, at: datetime) -> datetime:
        """The first instant at or after `at` when the office is open (aware, UTC)."""
        at = _aware(at, "at").astimezone(UTC)
        if self.is_open(at):
            return at
        zone = self.zone
        for day, _s, _e in self._business_days_from(self.local_date(at)):
            opens, _closes = self.office_hours[day.weekday()]
            candidate = datetime.combine(day, opens, zone).astimezone(UTC)
            if candidate >= at:
                return candidate
        raise AssertionError("unreachable")  # pragma: no cover
