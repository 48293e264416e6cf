"""Business time rules: office hours, business hours added and elapsed, across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.services.calendars.rules import BusinessCalendar

QUITO = ZoneInfo("America/Guayaquil")
EC_NOVEMBER = frozenset({date(2026, 11, 2), date(2026, 11, 3)})


def test_48_business_hours_from_friday_evening_is_tuesday_evening() -> None:
    calendar = BusinessCalendar("America/Guayaquil")
    friday = datetime(2026, 10, 23, 17, 0, tzinfo=QUITO)
    due = calendar.add_business_hours(friday, 48)
    assert due == datetime(2026, 10, 27, 17, 0, tzinfo=QUITO)
    assert due.tzinfo is UTC


def test_holidays_add_nothing_quito_all_souls_and_cuenca() -> None:
    calendar = BusinessCalendar("America/Guayaquil", closed_dates=EC_NOVEMBER)
    start = datetime(2026, 10, 30, 17, 0, tzinfo=QUITO)
    due = calendar.add_business_hours(start, timedelta(hours=48))
    assert due.astimezone(QUITO) == datetime(2026, 11, 5, 17, 0, tzinfo=QUITO)
    assert calendar.business_hours_between(start, due) == timedelta(hours=48)


def test_a_start_on_a_weekend_counts_from_the_next_business_day() -> None:
    calendar = BusinessCalendar("America/Guayaquil")
    saturday = datetime(2026, 10, 24, 10, 0, tzinfo=QUITO)
    assert calendar.add_business_hours(saturday, 1) == datetime(2026, 10, 26, 1, 0, tzinfo=QUITO)
    assert calendar.add_business_hours(saturday, 0) == saturday


def test_is_open_follows_office_hours_and_holidays() -> None:
    calendar = BusinessCalendar("America/Guayaquil", closed_dates=EC_NOVEMBER)
    assert calendar.is_open(datetime(2026, 11, 4, 9, 0, tzinfo=QUITO))
    assert not calendar.is_open(datetime(2026, 11, 4, 18, 0, tzinfo=QUITO))
    assert not calendar.is_open(datetime(2026, 11, 4, 8, 59, tzinfo=QUITO))
    assert not calendar.is_open(datetime(2026, 11, 2, 12, 0, tzinfo=QUITO))  # holiday
    assert not calendar.is_open(datetime(2026, 11, 7, 12, 0, tzinfo=QUITO))  # Saturday
    assert calendar.next_open(datetime(2026, 10, 30, 19, 0, tzinfo=QUITO)) == datetime(
        2026, 11, 4, 9, 0, tzinfo=QUITO
    )


def test_custom_office_hours_make_saturday_a_business_day() -> None:
    hours = {d: (time(8), time(17)) for d in range(6)}
    calendar = BusinessCalendar("America/Lima", office_hours=hours)
    lima = ZoneInfo("America/Lima")
    assert calendar.is_open(datetime(2026, 11, 7, 8, 30, tzinfo=lima))
    friday = datetime(2026, 11, 6, 17, 0, tzinfo=lima)
    assert calendar.add_business_hours(friday, 48) == datetime(2026, 11, 9, 17, 0, tzinfo=lima)


def test_naive_datetimes_and_negative_hours_are_refused() -> None:
    calendar = BusinessCalendar("America/Bogota")
    with pytest.raises(ValueError, match="aware"):
        calendar.add_business_hours(datetime(2026, 1, 1), 1)  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        calendar.add_business_hours(datetime(2026, 1, 1, tzinfo=UTC), -1)
    with pytest.raises(ValueError, match="opening"):
        BusinessCalendar("America/Bogota", office_hours={0: (time(18), time(9))})


def test_a_calendar_with_no_business_day_refuses_rather_than_loops() -> None:
    calendar = BusinessCalendar("America/Bogota", office_hours={})
    with pytest.raises(ValueError, match="no business day"):
        calendar.add_business_hours(datetime(2026, 1, 1, tzinfo=UTC), 1)


def test_santiago_day_when_midnight_does_not_exist_counts_23_hours() -> None:
    # Chile moved clocks from Saturday 2026-09-05 24:00 to Sunday 01:00; with
    # Sunday a business day, that day has 23 real hours.
    hours = {d: (time(9), time(18)) for d in range(7)}
    calendar = BusinessCalendar("America/Santiago", office_hours=hours)
    start, end = calendar.day_bounds(date(2026, 9, 6))
    assert end - start == timedelta(hours=23)
    assert calendar.business_hours_between(start, end) == timedelta(hours=23)


def test_sao_paulo_2004_a_business_day_ending_where_midnight_did_not_exist() -> None:
    # Brazil started summer time at Tuesday 2004-11-02 00:00 (to 01:00): Monday
    # the 1st was a 24-hour business day ending at Tuesday 01:00 local.
    calendar = BusinessCalendar("America/Sao_Paulo")
    sao_paulo = ZoneInfo("America/Sao_Paulo")
    monday = datetime(2004, 11, 1, 0, 0, tzinfo=sao_paulo)
    end = calendar.add_business_hours(monday, 24)
    assert end.astimezone(sao_paulo).replace(tzinfo=None) == datetime(2004, 11, 2, 1, 0)  # noqa: DTZ001
    # Tuesday had 23 real hours, so 48 business hours run to Wednesday 01:00.
    later = calendar.add_business_hours(monday, 48).astimezone(sao_paulo)
    assert later.replace(tzinfo=None) == datetime(2004, 11, 3, 1, 0)  # noqa: DTZ001


ZONES = ["America/Santiago", "America/Sao_Paulo", "America/New_York", "America/Guayaquil"]
instants = st.datetimes(
    min_value=datetime(1995, 1, 1),  # noqa: DTZ001
    max_value=datetime(2030, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))
holiday_sets = st.frozensets(
    st.dates(min_value=date(1995, 1, 1), max_value=date(2031, 3, 31)), max_size=30
)
weekday_sets = st.sets(st.integers(0, 6), min_size=1)


def calendar_of(zone: str, closed: frozenset[date], weekdays: set[int]) -> BusinessCalendar:
    return BusinessCalendar(
        zone, office_hours={d: (time(9), time(18)) for d in weekdays}, closed_dates=closed
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ZONES), instants, durations, holiday_sets, weekday_sets)
def test_elapsed_business_time_of_a_deadline_is_what_was_added(
    zone: str, start: datetime, hours: timedelta, closed: frozenset[date], weekdays: set[int]
) -> None:
    calendar = calendar_of(zone, closed, weekdays)
    due = calendar.add_business_hours(start, hours)
    assert due >= start
    assert due.tzinfo is UTC
    assert calendar.business_hours_between(start, due) == hours


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ZONES), instants, durations, durations, holiday_sets)
def test_adding_is_monotone_and_composes(
    zone: str, start: datetime, a: timedelta, b: timedelta, closed: frozenset[date]
) -> None:
    calendar = calendar_of(zone, closed, {0, 1, 2, 3, 4})
    first = calendar.add_business_hours(start, a)
    both = calendar.add_business_hours(start, a + b)
    assert first <= both
    if a > timedelta(0):
        # Continuing from an intermediate deadline lands on the same instant.
        assert calendar.add_business_hours(first, b) == both


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ZONES), instants, instants, holiday_sets)
def test_no_business_time_passes_outside_business_days(
    zone: str, a: datetime, b: datetime, closed: frozenset[date]
) -> None:
    calendar = calendar_of(zone, closed, {0, 1, 2, 3, 4})
    start, end = min(a, b), max(a, b)
    elapsed = calendar.business_hours_between(start, end)
    assert timedelta(0) <= elapsed <= end - start
    assert calendar.business_hours_between(end, start) == -elapsed
    # A deadline never lands inside a closed day; it may land on the instant a
    # business day ends (the next local midnight, or 01:00 when it does not exist).
    if elapsed > timedelta(0):
        due = calendar.add_business_hours(start, elapsed)
        day = calendar.local_date(due)
        previous = day - timedelta(days=1)
        assert calendar.is_business_day(day) or (
            calendar.is_business_day(previous) and calendar.day_bounds(previous)[1] == due
        )


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ZONES), instants)
def test_open_instants_are_on_business_days_within_office_hours(zone: str, at: datetime) -> None:
    calendar = calendar_of(zone, frozenset(), {0, 1, 2, 3, 4})
    local = at.astimezone(calendar.zone)
    expected = local.weekday() < 5 and time(9) <= local.time() < time(18)
    assert calendar.is_open(at) == expected
