"""Change requests on active services."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, PrimaryKeyConstraint, String, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamped, Versioned, new_id, page_index


class ChangeRequest(Versioned, Timestamped, Base):
    __tablename__ = "change_requests"

    id: Mapped[uuid.UUID] = mapped_column(default=new_id, index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    catalog_item: Mapped[str | None] = mapped_column(String(64))
    standard: Mapped[bool]
    service_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid()))
    description: Mapped[str] = mapped_column(Text, default="")
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    analysis_due_at: Mapped[datetime | None]
    routed_to: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    scheduled_start: Mapped[datetime | None]
    scheduled_end: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(120))

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "id"),
        page_index("change_requests", "enterprise_id"),
        page_index("change_requests"),
    )
