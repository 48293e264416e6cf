"""TMF621 attributes Carrier Desk keeps beside a ticket."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, tenant_foreign_key


class TmfTicketAttributes(Base):
    """What a carrier sent through TMF621 that Carrier Desk's ticket keeps no column for.

    TMF `severity` and `ticketType` are free text, kept as given (the ticket's
    own severity is the mapped one); a ticket opened elsewhere has no row here.
    """

    __tablename__ = "tmf_ticket_attributes"

    ticket_id: Mapped[uuid.UUID]
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    ticket_type: Mapped[str] = mapped_column(String(100))
    severity: Mapped[str] = mapped_column(String(100))
    priority: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime]

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "ticket_id"),
        tenant_foreign_key("ticket_id", "tickets"),
    )
