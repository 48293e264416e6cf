"""The injected clock: every deadline rule asks it for `now`, never the system."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Protocol

from pydantic import AfterValidator, AwareDatetime


def _in_utc(value: datetime) -> datetime:
    # "0001-01-01T00:00:00+14:00" parses, but lies before year 1 in UTC: the
    # database driver would overflow on it (a 500). Refuse it as bad input.
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the instant is out of range once converted to UTC") from exc


Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""A timezone-aware instant that exists in UTC, normalised to UTC. Use for every input time."""


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
