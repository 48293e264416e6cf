"""How repeated sign-in failures slow a guesser down, then lock the account."""

from __future__ import annotations

from datetime import datetime, timedelta

FREE_ATTEMPTS = 3

LOCK_AFTER = 10

LOCK_FOR = timedelta(minutes=15)

MAX_BACKOFF = timedelta(seconds=60)


def lockout_after_failure(failed_logins: int, now: datetime) -> datetime | None:
    """When the account may next try, given the count of failures so far (this one included).

    The first few mistakes cost nothing; then each doubles the wait (1 s, 2 s,
    4 s … up to a minute); at ten the account is locked for fifteen minutes.
    """
    if failed_logins >= LOCK_AFTER:
        return now + LOCK_FOR
    if failed_logins > FREE_ATTEMPTS:
        return now + min(timedelta(seconds=2 ** (failed_logins - FREE_ATTEMPTS - 1)), MAX_BACKOFF)
    return None
