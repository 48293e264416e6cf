"""How repeated sign-in failures slow a guesser down: the sign-in backoff.

Failures are counted per account name (whether or not it has an account, so the answers
reveal nothing) and per client address (one address guessing many names). An account name
locks for a while, never for good: a password-reset link always unlocks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core.roles import Role


@dataclass(frozen=True)
class Backoff:
    free_attempts: int
    max_wait: timedelta
    lock_after: int | None = None
    lock_for: timedelta = timedelta(0)

    def blocked_until(self, failures: int, now: datetime) -> datetime | None:
        """When the next try may come, given the failures so far (this one included).

        The first few cost nothing; then each doubles the wait (1 s, 2 s, 4 s … up to
        `max_wait`); at `lock_after` the name is locked for `lock_for`.
        """
        if self.lock_after is not None and failures >= self.lock_after:
            return now + self.lock_for
        if failures > self.free_attempts:
            doublings = min(failures - self.free_attempts - 1, 30)
            return now + min(timedelta(seconds=2**doublings), self.max_wait)
        return None


FREE_ATTEMPTS = 3

ADDRESS_FREE_ATTEMPTS = 20

# One account name: ten failures lock it for fifteen minutes.
ACCOUNT_BACKOFF = Backoff(
    free_attempts=FREE_ATTEMPTS,
    max_wait=timedelta(seconds=60),
    lock_after=10,
    lock_for=timedelta(minutes=15),
)

# One client address, many people behind it (an office's NAT): slowed, never locked.
ADDRESS_BACKOFF = Backoff(free_attempts=ADDRESS_FREE_ATTEMPTS, max_wait=timedelta(seconds=60))


# A counter quiet this long is forgotten (its row removed by the worker's clean-up): the
# longest lock is far shorter, and every name ever tried must not stay in the table.
THROTTLE_MEMORY = timedelta(hours=24)


def stale_throttle_before(now: datetime) -> datetime:
    """Counters last changed before this, and no longer blocking, are forgotten."""
    return now - THROTTLE_MEMORY


def account_email(email: str) -> str:
    """How an e-mail finds its account: addresses are compared in lower case."""
    return email.lower()


def account_throttle_key(email: str) -> str:
    """The key of an account name's failure counter (stored only as a hash)."""
    return f"account:{account_email(email)}"


def throttle_keys(email: str, address: str | None) -> dict[str, Backoff]:
    """The counters one sign-in attempt is held to, by key (stored only as a hash)."""
    keys = {account_throttle_key(email): ACCOUNT_BACKOFF}
    if address:
        keys[f"address:{address}"] = ADDRESS_BACKOFF
    return keys


def invitation_fits_role(account_role: Role, granted: Role) -> bool:
    """Whether an account may accept an invitation granting `granted`.

    An account holds one role in all its enterprises, so it joins only when that role gives no
    more than the inviter granted: the same role, or a customer user invited as administrator.
    """
    return account_role is granted or (
        granted is Role.customer_admin and account_role is Role.customer_user
    )
