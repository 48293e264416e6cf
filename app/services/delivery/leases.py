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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Select, Update, any_, bindparam, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.claims import candidates, claim_per_tenant, unnested


@dataclass(frozen=True)
class LeasePlan:
    """A queue's claim, its statements built once (their values are parameters: a claim
    computes no statement, and SQLAlchemy finds each compiled by a key it keeps)."""

    found: Select[Any]  # candidates `(enterprise_id, id)`; `now`, `limit` and the caller's
    lock: Select[Any]  # one enterprise's candidates still due, locked; `tenant`, `ids`
    lease: Update  # the rows leased and read back; `tenant`, `locked`, `until`


def lease_plan(
    queue: Any,
    returning: Sequence[Any],
    *,
    found: Callable[[Any], Select[Any]] | None = None,
    rows_of: Callable[[Any, Any], Select[Any]] | None = None,
    joined: Sequence[Any] = (),
) -> LeasePlan:
    """The claim of `queue`'s pending rows due at `now`, the longest due first: up to `limit`
    candidates (`found(now)` narrows which, rows of `(enterprise_id, id)`, limited by the
    `limit` parameter), locked per enterprise, leased with the `returning` columns read back.

    `rows_of(enterprise_id, locked)` widens what is leased beyond the rows locked (the ids of
    that enterprise's rows, a statement of those two parameters); `joined` names the
    conditions of a table joined to the leased rows (`returning` may name its columns)."""
    table = queue.__table__  # Core statements: rows only read back need no ORM state
    q = table.c
    now = bindparam("now", type_=q.next_attempt_at.type)
    enterprise_id = bindparam("tenant", type_=q.enterprise_id.type)
    locked = bindparam("locked", type_=ARRAY(q.id.type))
    due = (q.status == "pending", q.next_attempt_at <= now)
    limit = bindparam("limit", type_=Integer)
    candidates_found = (
        candidates(q, q.next_attempt_at, limit, *due) if found is None else found(now).limit(limit)
    )
    lock = (
        select(q.id)
        .where(q.enterprise_id == enterprise_id, q.id == any_(bindparam("ids", type_=locked.type)))
        .where(*due)
        .with_for_update(skip_locked=True)
    )
    rows = q.id == any_(locked) if rows_of is None else q.id.in_(rows_of(enterprise_id, locked))
    lease = (
        update(table)
        .where(q.enterprise_id == enterprise_id, rows, *joined)
        .values(
            attempts=q.attempts + 1,
            next_attempt_at=bindparam("until", type_=q.next_attempt_at.type),
        )
        .returning(*returning)
    )
    return LeasePlan(candidates_found, lock, lease)


async def lease_due(
    session: AsyncSession,
    plan: LeasePlan,
    now: datetime,
    limit: int,
    lease: timedelta,
    **parameters: Any,
) -> list[Any]:
    """Lease up to `limit` of the plan's rows due at `now` (`parameters`: the plan's own);
    answer the `returning` columns of each leased row. Claimed per enterprise (`core.claims`)."""

    async def claim(enterprise_id: uuid.UUID | None, ids: list[Any]) -> list[Any]:
        at = {"tenant": enterprise_id, "now": now}
        locked = list((await session.execute(plan.lock, {**at, "ids": ids})).scalars())
        if not locked:
            return []
        values = {**parameters, **at, "locked": locked, "until": now + lease}
        return list((await session.execute(plan.lease, values)).all())

    found = {**parameters, "now": now, "limit": limit}
    return await claim_per_tenant(session, plan.found, claim, found)


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
