"""Which NOTIFYs wake the SLA loop: only a due instant before the one it sleeps until; one
heard while it works is kept for its next look, never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.workers.sla_engine import Alarm

T = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def asleep_until(at: datetime) -> Alarm:
    alarm = Alarm()
    alarm.at = at
    return alarm


def test_an_asleep_loop_wakes_only_for_an_earlier_instant() -> None:
    alarm = asleep_until(T)
    assert alarm.wanted((T - timedelta(seconds=1)).isoformat())
    assert not alarm.wanted((T + timedelta(hours=1)).isoformat())  # a new ticket, due later
    assert not alarm.wanted("")  # a clock that never falls due
    assert alarm.wanted("not an instant")  # unknown: look


def test_an_instant_heard_while_working_plans_the_next_look() -> None:
    alarm = asleep_until(T)
    alarm.working()
    assert not alarm.wanted((T + timedelta(seconds=5)).isoformat())
    assert not alarm.wanted((T + timedelta(seconds=2)).isoformat())
    assert alarm.plan(T + timedelta(hours=1)) == T + timedelta(seconds=2)
    assert alarm.plan(None) == T + timedelta(seconds=2)
    alarm.working()  # the next sweep reads the database again: nothing carried over
    assert alarm.plan(None) is None
