"""The one place that decides which tenants' rows a caller may see.

Every query over customer rows goes through `visible_to`; a lint test keeps
it so. Provider staff see every enterprise; a customer sees its own, and to
it another enterprise's row simply does not exist (404, never 403).
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.caller import Caller
from app.core.errors import NotFound

S = TypeVar("S", bound=Select[Any])


def visible_to(stmt: S, caller: Caller, enterprise_column: InstrumentedAttribute[uuid.UUID]) -> S:
    if caller.is_provider:
        return stmt
    if not caller.enterprise_ids:
        return stmt.where(false())
    return stmt.where(enterprise_column.in_(caller.enterprise_ids))


def visible_enterprise_ids(caller: Caller) -> list[uuid.UUID] | None:
    """The same decision as `visible_to`, as a parameter for plain-SQL hot paths:
    None for provider staff (every enterprise), else the caller's own list."""
    if caller.is_provider:
        return None
    return list(caller.enterprise_ids)


M = TypeVar("M")


async def find_visible(
    session: AsyncSession,
    caller: Caller,
    model: type[M],
    row_id: uuid.UUID,
    *,
    what: str,
    lock: bool = False,
) -> M:
    """One row of a tenant table by id, or a 404 naming `what` (another tenant's row included)."""
    table: Any = model
    stmt = visible_to(select(model), caller, table.enterprise_id).where(table.id == row_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"{what} {row_id} not found")
    return row
