"""Network incidents: one outage the Technical Service Center works, across many tenants."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, PrimaryKeyConstraint, Sequence, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamped, Versioned, new_id, page_index, tenant_foreign_key

# INC-2026-000042: the number part comes from this sequence.
INCIDENT_NUMBER_SEQUENCE = Sequence("incident_number_seq", metadata=Base.metadata, start=1)


class Incident(Versioned, Timestamped, Base):
    """A fibre cut touching two hundred enterprises is one incident. It spans tenants, so it has
    no `enterprise_id`: its linked services and tickets carry them."""

    __tablename__ = "incidents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    summary: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(16))
    impact: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    expected_end_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    declared_by: Mapped[str] = mapped_column(String(120))

    __table_args__ = (page_index("incidents"),)


class IncidentService(Base):
    """A service the incident affects: what scopes the incident to the service's tenant."""

    __tablename__ = "incident_services"

    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id"))
    service_id: Mapped[uuid.UUID] = mapped_column(index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    linked_at: Mapped[datetime]

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "incident_id", "service_id"),
        tenant_foreign_key("service_id", "services"),
    )


class IncidentTicket(Base):
    """A customer's ticket worked as part of the incident."""

    __tablename__ = "incident_tickets"

    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id"))
    ticket_id: Mapped[uuid.UUID] = mapped_column(index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    linked_at: Mapped[datetime]

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "incident_id", "ticket_id"),
        tenant_foreign_key("ticket_id", "tickets"),
    )
