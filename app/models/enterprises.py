"""Enterprises (the tenant), their billing accounts and their services."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, PrimaryKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import (
    Base,
    Timestamped,
    Versioned,
    new_id,
    page_index,
    tenant_foreign_key,
)


class Enterprise(Versioned, Timestamped, Base):
    __tablename__ = "enterprises"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    segment: Mapped[str] = mapped_column(String(20), default="enterprise")

    __table_args__ = (page_index("enterprises"),)


class Account(Timestamped, Base):
    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(default=new_id, index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    number: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "id"),
        UniqueConstraint("enterprise_id", "number"),
    )


class Service(Versioned, Timestamped, Base):
    __tablename__ = "services"

    id: Mapped[uuid.UUID] = mapped_column(default=new_id, index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    account_id: Mapped[uuid.UUID | None]
    # A code names one service of its enterprise (two enterprises may use the same code).
    code: Mapped[str] = mapped_column(String(64))
    product_line: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    site_address: Mapped[str] = mapped_column(String(300))
    site_city: Mapped[str] = mapped_column(String(120))
    site_country: Mapped[str] = mapped_column(String(2))

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "id"),
        tenant_foreign_key("account_id", "accounts"),
        UniqueConstraint("enterprise_id", "code"),
        page_index("services", "enterprise_id"),
    )
