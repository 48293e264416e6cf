"""The injected clock: every deadline rule asks it for `now`, never the system."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Protocol

from pydantic import AfterValidator, AwareDatetime

from app.core.time_bounds import instant_problem


def _in_utc(value: datetime) -> datetime:
    # "0001-01-01T00:00:00+14:00" parses, but lies before year 1 in UTC: the
    # database driver would overflow on it (a 500). Refuse it as bad input.
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the instant is out of range once converted to UTC") from exc
    problem = instant_problem(in_utc)
    if problem is not None:
        raise ValueError(problem)
    return in_utc


Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""A timezone-aware instant in the years the API takes (`time_bounds`), normalised to UTC.
Use for every input time, in bodies, query parameters and headers alike."""


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to; for tests."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at

    def advance(self, delta: timedelta) -> None:
        self._at += delta
