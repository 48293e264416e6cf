"""The lease both senders take on their queue (mail messages, webhook deliveries).

A claim takes due pending rows with `FOR UPDATE SKIP LOCKED`, so workers never
take the same row, and leases them in the claiming statement: `attempts` goes up
and `next_attempt_at` moves past the lease. A worker that dies mid-send leaves
the row to come due again when the lease runs out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Update, select, update


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
