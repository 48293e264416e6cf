"""Planned maintenance (global change requests), the enterprises they touch, country rules."""

from __future__ import annotations

import uuid
from datetime import datetime, time

from sqlalchemy import ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamped, Versioned, new_id, page_index


class Maintenance(Versioned, Timestamped, Base):
    """A GCR. It spans tenants, so it has no `enterprise_id`: its impacts carry them."""

    __tablename__ = "maintenances"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    gcr_number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    start: Mapped[datetime]
    end: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    expected_impact: Mapped[str] = mapped_column(String(16))
    impacted_service_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid()))
    created_by: Mapped[str] = mapped_column(String(120))
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (page_index("maintenances"),)


class MaintenanceImpact(Base):
    """One impacted enterprise of a GCR: what scopes it to tenants, and their acknowledgement."""

    __tablename__ = "maintenance_impacts"

    maintenance_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("maintenances.id"), primary_key=True
    )
    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprises.id"), primary_key=True, index=True
    )
    service_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid()))
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))


class MaintenancePolicy(Base):
    """A country's maintenance window (local time) and notice period; defaults when absent."""

    __tablename__ = "maintenance_policies"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    window_start: Mapped[time]
    window_end: Mapped[time]
    notice_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class MaintenanceFeed(Base):
    """The secret behind an enterprise's iCalendar feed URL."""

    __tablename__ = "maintenance_feeds"

    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)
    # Looked up by the feed URL alone; 32 random bytes need no uniqueness constraint.
    secret: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime]
