"""Trouble tickets, their per-stage SLA clocks, and the SLA policies per country."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Sequence,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import (
    Base,
    Timestamped,
    Versioned,
    new_id,
    page_index,
    tenant_foreign_key,
)

# TT-2026-000123: the number part comes from this sequence, so two intakes
# never race for a number.
TICKET_NUMBER_SEQUENCE = Sequence("ticket_number_seq", metadata=Base.metadata, start=1)


class SlaPolicy(Versioned, Base):
    """A country's targets (seconds; null: no target) and thresholds. A reference table."""

    __tablename__ = "sla_policies"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    targets: Mapped[dict[str, Any]] = mapped_column(JSONB)
    dispatch: Mapped[dict[str, Any]] = mapped_column(JSONB)
    warning_ratio: Mapped[float] = mapped_column(Float)
    escalation_ratios: Mapped[list[float]] = mapped_column(JSONB)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(120), default="seed")


class Ticket(Versioned, Timestamped, Base):
    __tablename__ = "tickets"

    id: Mapped[uuid.UUID] = mapped_column(default=new_id, index=True)
    number: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    # None until the TSC names the service (a NOC may report before it knows the code).
    service_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    severity: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    contact: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # The site the reporter wrote (information only), else the service's.
    site: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The SLA terms the clocks follow: `rules.sla_terms` (the service's own site).
    country: Mapped[str] = mapped_column(String(2))
    city_tier: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24))
    stage: Mapped[str] = mapped_column(String(16))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    external_id: Mapped[str | None] = mapped_column(String(100))
    # How it reached the TSC (`tickets.rules.Channel`).
    channel: Mapped[str] = mapped_column(String(16), server_default="api")
    hold_reason: Mapped[str | None] = mapped_column(String(500))
    held_at: Mapped[datetime | None]
    waiting_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    reported_at: Mapped[datetime]
    restored_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "id"),
        tenant_foreign_key("service_id", "services"),
        UniqueConstraint("enterprise_id", "number"),
        page_index("tickets"),
        page_index("tickets", "enterprise_id"),
        Index(
            "uq_tickets_enterprise_id_external_id",
            "enterprise_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
    )


class SlaClock(Base):
    """One stage's clock: one row per stage entered, with the target it started with."""

    __tablename__ = "sla_clocks"

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True, index=True)
    ticket_id: Mapped[uuid.UUID]
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    stage: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    target_seconds: Mapped[float | None] = mapped_column(Float)
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    paused_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    paused_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16))
    warned_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    warning_ratio: Mapped[float] = mapped_column(Float)
    escalation_ratios: Mapped[list[float]] = mapped_column(JSONB)
    # The next instant the engine must look at this clock (warning, breach or
    # an escalation level); null when nothing more can fall due.
    next_due_at: Mapped[datetime | None]

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "id"),
        tenant_foreign_key("ticket_id", "tickets"),
        Index("ix_sla_clocks_ticket_id_id", "ticket_id", "id"),
        Index(
            "ix_sla_clocks_next_due",
            "next_due_at",
            postgresql_where=text("state = 'running' AND next_due_at IS NOT NULL"),
        ),
        Index("ix_sla_clocks_enterprise_id_started_at", "enterprise_id", "started_at"),
    )
