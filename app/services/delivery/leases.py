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

import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Update, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.claims import any_of, candidates, claim_per_tenant, tenant_is, unnested


async def lease_due(
    session: AsyncSession,
    queue: Any,
    now: datetime,
    limit: int,
    lease: timedelta,
    returning: Sequence[Any],
    *,
    found: Select[Any] | None = None,
    rows_of: Callable[[uuid.UUID | None, list[Any]], Select[Any]] | None = None,
    joined: Sequence[Any] = (),
) -> list[Any]:
    """Lease up to `limit` of `queue`'s pending rows due at `now`, the longest due first
    (`found`, rows of `(enterprise_id, id)`, narrows which); answer the `returning` columns
    of each leased row. Claimed per enterprise (`core.claims`).

    `rows_of(enterprise_id, locked)` widens what is leased beyond the rows locked (ids of
    that enterprise's rows, a statement); `joined` names the conditions of a table joined
    to the leased rows (`returning` may name its columns)."""
    # Core statements on the table: no ORM state to set up for rows only read back.
    leased_table = queue.__table__
    q = leased_table.c
    due = (q.status == "pending", q.next_attempt_at <= now)
    if found is None:
        found = candidates(q, q.next_attempt_at, limit, *due)

    async def claim(enterprise_id: uuid.UUID | None, ids: list[Any]) -> list[Any]:
        mine = (tenant_is(q.enterprise_id, enterprise_id), any_of(q.id, ids), *due)
        locked = list(
            (
                await session.execute(select(q.id).where(*mine).with_for_update(skip_locked=True))
            ).scalars()
        )
        if not locked:
            return []
        rows = any_of(q.id, locked) if rows_of is None else q.id.in_(rows_of(enterprise_id, locked))
        leased = (
            update(leased_table)
            .where(tenant_is(q.enterprise_id, enterprise_id), rows, *joined)
            .values(attempts=q.attempts + 1, next_attempt_at=now + lease)
            .returning(*returning)
        )
        return list((await session.execute(leased)).all())

    return await claim_per_tenant(session, found, claim)


# A held row, as claimed: its key and the `attempts` its lease was taken with.
LeaseKey = tuple[Any, Any, int]


def still_held(queue: Any, held: Iterable[LeaseKey]) -> tuple[Any, ...]:
    """The conditions naming the rows of `queue` still pending under the lease each was claimed
    with, by `(enterprise_id, id, attempts)`: a newer lease owns a row otherwise."""
    keys = list(held)
    q = queue.__table__.c
    rows = unnested(
        "held",
        {
            "enterprise_id": (q.enterprise_id, [k[0] for k in keys]),
            "id": (q.id, [k[1] for k in keys]),
            "attempts": (q.attempts, [k[2] for k in keys]),
        },
    )
    return (
        q.enterprise_id == rows.c.enterprise_id,
        q.id == rows.c.id,
        q.attempts == rows.c.attempts,
        q.status == "pending",
    )


def renew_leases(queue: Any, held: Iterable[LeaseKey], until: datetime) -> Update | None:
    """Move the lease of rows still held on to `until`; None when nothing is held."""
    keys = list(held)
    if not keys:
        return None
    return update(queue.__table__).where(*still_held(queue, keys)).values(next_attempt_at=until)
