"""Orders and their touchpoints."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ForeignKey, PrimaryKeyConstraint, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamped, Versioned, new_id, page_index


class Order(Versioned, Timestamped, Base):
    __tablename__ = "orders"

    id: Mapped[uuid.UUID] = mapped_column(default=new_id, index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    number: Mapped[str] = mapped_column(String(32))
    product_line: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    sites: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    requested_delivery_date: Mapped[date | None]
    expected_delivery_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16))
    customer_care_manager: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    touchpoints: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "id"),
        UniqueConstraint("enterprise_id", "number"),
        page_index("orders", "enterprise_id"),
        page_index("orders"),
    )
