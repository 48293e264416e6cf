"""A page of ORM rows: the keyset statement of `app.core.pagination`, run on the session.

Every list read through the ORM runs it the same way: order by (time of change,
id), fetch one row more than the page, split it off into the next cursor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.pagination import PageParams, keyset, page_of

Row = TypeVar("Row")


async def fetch_page(
    session: AsyncSession,
    stmt: Select[tuple[Row]],
    params: PageParams,
    changed_at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[Any],
) -> tuple[list[Row], str | None]:
    """The rows of `stmt` after `params.cursor` in (changed_at, row_id) order, at most
    `params.limit` of them, and the cursor of the next page (None on the last)."""
    rows = (await session.execute(keyset(stmt, params, changed_at, row_id))).scalars().all()
    return page_of(
        rows, params, lambda row: (getattr(row, changed_at.key), getattr(row, row_id.key))
    )
