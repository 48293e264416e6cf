"""Billing requests: inquiries, disputes, data changes, PO/HES/MIGO references, credits."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamped, Versioned, new_id, page_index, tenant_foreign_key


class BillingRequest(Versioned, Timestamped, Base):
    __tablename__ = "billing_requests"

    id: Mapped[uuid.UUID] = mapped_column(default=new_id, index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    account_id: Mapped[uuid.UUID | None]
    type: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    ack_due_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    effective_invoice: Mapped[str | None] = mapped_column(String(7))
    route_to: Mapped[str | None] = mapped_column(String(254))
    outcome: Mapped[str | None] = mapped_column(String(16))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    credit_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    credit_currency: Mapped[str | None] = mapped_column(String(3))
    resolved_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(120))

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "id"),
        tenant_foreign_key("account_id", "accounts"),
        page_index("billing_requests", "enterprise_id"),
        page_index("billing_requests"),
    )
