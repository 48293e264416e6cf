"""The lease both senders take on their queue (mail messages, webhook deliveries).

A claim takes due pending rows with `FOR UPDATE SKIP LOCKED`, so workers never
take the same row, and leases them in the claiming statement: `attempts` goes up
and `next_attempt_at` moves past the lease. The holder renews the lease while it
still works on a row (`renew_leases`), so a lease can be short: a worker that dies
mid-send leaves the row to come due again within one lease, not one worst case.
A renewal names the `attempts` it claimed: once another worker has taken the row
over (after a lapse), the late holder renews nothing and records nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Update, select, tuple_, update


def lease_due(
    queue: Any,
    now: datetime,
    limit: int,
    lease: timedelta,
    *among: ColumnElement[bool],
) -> Update:
    """Lease up to `limit` of `queue`'s pending rows due at `now` (and `among`), the longest
    due first; the caller adds the `returning` columns it sends with."""
    due = (
        select(queue.id)
        .where(*among, queue.status == "pending", queue.next_attempt_at <= now)
        .order_by(queue.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        update(queue)
        .where(queue.id.in_(due))
        .values(attempts=queue.attempts + 1, next_attempt_at=now + lease)
    )


def renew_leases(queue: Any, held: Iterable[tuple[Any, int]], until: datetime) -> Update | None:
    """Move the lease of rows still held (`(id, attempts)` as claimed) on to `until`;
    None when nothing is held."""
    pairs = list(held)
    if not pairs:
        return None
    return (
        update(queue)
        .where(tuple_(queue.id, queue.attempts).in_(pairs), queue.status == "pending")
        .values(next_attempt_at=until)
    )
