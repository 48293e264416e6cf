"""Declarative base with the constraint naming convention every migration relies on."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
