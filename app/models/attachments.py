"""Files attached to a ticket or a billing request: their description and their bytes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, new_id, tenant_foreign_key


class Attachment(Base):
    """One file on exactly one owner: a ticket or a billing request.

    The bytes (`data`) are deferred: a list, a total or a lock reads the description only, and
    PostgreSQL keeps a large `bytea` out of line (TOAST), so those reads never touch it.
    """

    __tablename__ = "attachments"

    id: Mapped[uuid.UUID] = mapped_column(default=new_id, index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    ticket_id: Mapped[uuid.UUID | None]
    billing_request_id: Mapped[uuid.UUID | None]
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    visibility: Mapped[str] = mapped_column(String(16))
    # Who added it: `api_client:<id>`, `user:<id>`, or a channel's own (`mail:<address>`).
    author: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "id"),
        tenant_foreign_key("ticket_id", "tickets"),
        tenant_foreign_key("billing_request_id", "billing_requests"),
        CheckConstraint("num_nonnulls(ticket_id, billing_request_id) = 1", name="one_owner"),
        # A page of one owner's files, in the order they came.
        Index("ix_attachments_ticket_id_created_at_id", "ticket_id", "created_at", "id"),
        Index(
            "ix_attachments_billing_request_id_created_at_id",
            "billing_request_id",
            "created_at",
            "id",
        ),
    )
