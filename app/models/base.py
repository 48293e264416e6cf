"""Declarative base with the constraint naming convention every migration relies on."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Dialect,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True)}  # noqa: RUF012


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def page_index(table: str, *leading: str) -> Index:
    """The index a page of `table` ordered by `updated_at, id` reads: `page_index("orders")`
    for everyone's page, `page_index("orders", "enterprise_id")` for one tenant's. Named
    `ix_<table>_<columns>` (`ix_orders_enterprise_id_updated_at_id`)."""
    columns = (*leading, "updated_at", "id")
    return Index(f"ix_{table}_{'_'.join(columns)}", *columns)


class Versioned:
    """A row whose `version` feeds the ETag and guards writes with If-Match."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class Timestamped:
    """A row that keeps when it was created and when it last changed."""

    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# The tenant key of rows that belong to no customer enterprise: the provider's own events,
# mail to staff. Every tenant table is distributed by `enterprise_id` (docs/SCALING.md), and a
# distribution column holds no NULL, so such rows carry this key in the database.
NO_TENANT = uuid.UUID(int=0)


class TenantKey(TypeDecorator[uuid.UUID]):
    """`enterprise_id` of a table whose rows may belong to no enterprise: Python sees None, the
    database stores `NO_TENANT` (customers never see it: it is none of their enterprises)."""

    impl = Uuid
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return NO_TENANT if value is None else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value == NO_TENANT else value


def tenant_foreign_key(column: str, parent: str, parent_column: str = "id") -> ForeignKeyConstraint:
    """A reference to another tenant table's row, carrying `enterprise_id`: the two rows live
    on the same shard, and a row never points into another enterprise."""
    return ForeignKeyConstraint(
        ["enterprise_id", column], [f"{parent}.enterprise_id", f"{parent}.{parent_column}"]
    )
