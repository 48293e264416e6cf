"""The authenticated caller of a request, and the tenant questions asked of it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.distribution import DISTRIBUTED
from app.core.errors import NotFound, field_error
from app.core.roles import Role, is_provider


@dataclass(frozen=True, slots=True)
class Caller:
    id: uuid.UUID
    kind: Literal["api_client", "user"]
    role: Role
    name: str
    enterprise_ids: frozenset[uuid.UUID]
    default_enterprise_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None

    @property
    def is_provider(self) -> bool:
        return is_provider(self.role)

    @property
    def actor(self) -> str:
        """How the caller is named in event histories."""
        return f"{self.kind}:{self.id}"

    @property
    def principal(self) -> str:
        """The key under which the caller's idempotency records are kept."""
        return f"{self.kind}:{self.id}"

    def can_see(self, enterprise_id: uuid.UUID | None) -> bool:
        return self.is_provider or (
            enterprise_id is not None and enterprise_id in self.enterprise_ids
        )

    def require_enterprise(self, enterprise_id: uuid.UUID) -> uuid.UUID:
        """An enterprise the caller may act for; any other is, to this caller, absent."""
        if not self.can_see(enterprise_id):
            raise NotFound(f"enterprise {enterprise_id} not found")
        return enterprise_id

    def acting_enterprise(self, requested: uuid.UUID | None) -> uuid.UUID:
        """The enterprise a create acts for: the one named, or the caller's only one."""
        if requested is not None:
            return self.require_enterprise(requested)
        if len(self.enterprise_ids) == 1:
            return next(iter(self.enterprise_ids))
        if self.default_enterprise_id is not None and not self.is_provider:
            return self.default_enterprise_id
        raise field_error("enterprise_id", "required: the caller acts for several enterprises")


S = TypeVar("S", bound=Select[Any])


def visible_to(
    stmt: S,
    caller: Caller,
    enterprise_column: InstrumentedAttribute[uuid.UUID] | InstrumentedAttribute[uuid.UUID | None],
) -> S:
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


async def one_or_404(
    session: AsyncSession, stmt: Select[tuple[M]], what: str, key: object, *, lock: bool = False
) -> M:
    """The one row `stmt` selects (locked `FOR UPDATE` with `lock`), or a 404 naming `what`
    and `key`; scope `stmt` to the caller first (`visible_to`), so another tenant's is a 404."""
    if lock:
        stmt = (await pinned_to_tenant(session, stmt, what, key)).with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"{what} {key} not found")
    return row


async def pinned_to_tenant(session: AsyncSession, stmt: Select[Any], what: str, key: object) -> Any:
    """`stmt` narrowed to its row's enterprise when it reads a distributed table: Citus locks
    rows only in a query routed to one shard, so a lock by id looks the tenant up first
    (unlocked) and then locks with `enterprise_id` named."""
    table: Any = stmt.get_final_froms()[0]
    if getattr(table, "name", None) not in DISTRIBUTED:
        return stmt
    tenant = (
        await session.execute(stmt.with_only_columns(table.c.enterprise_id).limit(1))
    ).scalar_one_or_none()
    if tenant is None:
        raise NotFound(f"{what} {key} not found")
    return stmt.where(table.c.enterprise_id == tenant)


async def find_visible(
    session: AsyncSession,
    caller: Caller,
    model: type[M],
    row_id: uuid.UUID,
    *,
    what: str,
    lock: bool = False,
    within: uuid.UUID | None = None,
) -> M:
    """One row of a tenant table by id, or a 404 naming `what` (another tenant's row included;
    with `within`, a row of any enterprise but that one too)."""
    table: Any = model
    stmt = visible_to(select(model), caller, table.enterprise_id).where(table.id == row_id)
    if within is not None:
        stmt = stmt.where(table.enterprise_id == within)
    return await one_or_404(session, stmt, what, row_id, lock=lock)
