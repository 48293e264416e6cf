"""How a worker claims rows of many tenants: find them unlocked, lock them per enterprise.

A claim across all tenants in one `… ORDER BY … LIMIT n FOR UPDATE SKIP LOCKED` works on
one PostgreSQL but not on Citus, which locks rows only in a query that routes to one shard.
So every claim has two steps (CONTRIBUTING.md, "Data access"):

1. an unlocked scan finds candidate `(enterprise_id, id)` pairs across all shards, oldest
   first, up to the batch size;
2. for each enterprise in turn, one statement locks that enterprise's candidates with
   `FOR UPDATE SKIP LOCKED`, checking again the condition that made them candidates (another
   worker may have taken them in between), and the caller works on what it got.

Two workers never hold the same row (the lock), a row taken by another is skipped, and the
batch keeps the oldest-first order of step 1.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import TableValuedAlias

Claim = Callable[[uuid.UUID | None, list[Any]], Awaitable[Sequence[Any]]]


def candidates(table: Any, oldest_first: Any, limit: Any, *where: Any) -> Select[Any]:
    """Step 1: `(enterprise_id, id)` of up to `limit` rows of `table` matching `where`, in
    `oldest_first` order, unlocked (`limit`: a number, or a parameter)."""
    return select(table.enterprise_id, table.id).where(*where).order_by(oldest_first).limit(limit)


def by_tenant(pairs: Iterable[tuple[Any, Any]]) -> dict[Any, list[Any]]:
    """`(enterprise_id, id)` pairs grouped by enterprise, each group and id in its first order."""
    grouped: dict[Any, list[Any]] = {}
    for enterprise_id, row_id in pairs:
        grouped.setdefault(enterprise_id, []).append(row_id)
    return grouped


def array_of(column: Any, values: Iterable[Any]) -> ColumnElement[Any]:
    """`values` as one array parameter of `column`'s type: one prepared statement whatever
    their count (an `IN (…)` list prepares one per length)."""
    return bindparam(None, list(values), type_=ARRAY(column.type))  # sent as `$n::<type>[]`


def unnested(name: str, columns: dict[str, tuple[Any, list[Any]]]) -> TableValuedAlias:
    """Rows given as one array per column (`{name: (typed like, values)}`), as a table
    `name` to join or to update FROM: one statement for many rows, each naming its keys."""
    arrays = [array_of(like, values) for like, values in columns.values()]
    return func.unnest(*arrays).table_valued(*columns).render_derived(name=name)


async def claim_per_tenant(
    session: AsyncSession,
    candidates: Select[Any],
    claim: Claim,
    parameters: dict[str, Any] | None = None,
) -> list[Any]:
    """Run `candidates` (rows of `(enterprise_id, id)`, no lock; with `parameters`), then
    `claim(enterprise_id, ids)` once per enterprise in the order its first candidate came;
    answer what the claims returned, in that order."""
    return await claim_found((await session.execute(candidates, parameters)).tuples(), claim)


async def claim_found(pairs: Iterable[tuple[Any, Any]], claim: Claim) -> list[Any]:
    """Step 2 alone, for a caller that ran step 1 itself (the SLA engine reads its candidates
    on the driver, with the next due instant in the same statement): `claim(enterprise_id,
    ids)` once per enterprise of `pairs`, in the order its first pair came."""
    found = by_tenant(pairs)
    claimed: list[Any] = []
    for enterprise_id, ids in found.items():
        claimed.extend(await claim(enterprise_id, ids))
    return claimed
