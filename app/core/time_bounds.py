"""Which instants the API takes at all; how far back a receipt may be dated, and how far ahead
and how long work may be planned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Every input instant lies in these years. The deadline arithmetic adds at most about a century
# to an instant (a year's target times an escalation ratio of at most 100), so an instant in
# range never overflows Python's year 9999 however it is used.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)

LATEST = datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)

MAX_BACKDATE = timedelta(days=366)

MAX_AHEAD = timedelta(days=2 * 366)

MAX_DURATION = timedelta(days=31)


def received_at_problem(received_at: datetime, now: datetime) -> str | None:
    if received_at > now:
        return "must not be in the future"
    if now - received_at > MAX_BACKDATE:
        return "must be within the last year"
    return None


def span_problem(start: datetime, end: datetime, now: datetime) -> tuple[str, str] | None:
    """(field, message) when planned work is too far from now or too long."""
    if start - now > MAX_AHEAD or now - start > MAX_BACKDATE:
        return "start", "must be within two years from now"
    if end - start > MAX_DURATION:
        return "end", "work may last at most 31 days"
    return None


def instant_problem(at: datetime) -> str | None:
    """Why an input instant is refused before any rule sees it, or None."""
    if not EARLIEST <= at <= LATEST:
        return "must lie between the years 1900 and 2999"
    return None
