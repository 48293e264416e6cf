"""MEF LSO Sonata attributes Carrier Desk keeps beside a ticket."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, PrimaryKeyConstraint, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, tenant_foreign_key


class SonataTicketAttributes(Base):
    """What a wholesale buyer sent through Sonata that the ticket keeps no column for.

    A ticket opened elsewhere has no row here: its Sonata values are derived from its own
    severity (`app/services/sonata/rules.py`)."""

    __tablename__ = "sonata_ticket_attributes"

    ticket_id: Mapped[uuid.UUID]
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    ticket_type: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    observed_impact: Mapped[str] = mapped_column(String(16))
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    issue_start_date: Mapped[datetime | None]
    # The stage the buyer reopened the ticket in: `reopened` while it stays there.
    reopened_stage: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime]

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "ticket_id"),
        tenant_foreign_key("ticket_id", "tickets"),
    )
