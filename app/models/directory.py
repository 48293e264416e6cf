"""The directory: lines, offices, escalation matrices, city tiers, account teams, contacts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, PrimaryKeyConstraint, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Timestamped, Versioned, new_id, page_index


class DirectoryLine(Base):
    """A phone line of the directory; a line shared by several countries is one row."""

    __tablename__ = "directory_lines"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    seed_key: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(32))
    countries: Mapped[list[str]] = mapped_column(ARRAY(String(2)))
    services: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    toll_free: Mapped[str | None] = mapped_column(String(64))
    local: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    extension: Mapped[str | None] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (Index("ix_directory_lines_countries", "countries", postgresql_using="gin"),)


class CountryDirectory(Base):
    """Where a country's customers go: portals and the PO/HES/MIGO mailbox."""

    __tablename__ = "country_directory"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    portals: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    portal_note: Mapped[str | None] = mapped_column(String(300))
    billing_mailbox: Mapped[str | None] = mapped_column(String(200))


class Office(Base):
    __tablename__ = "offices"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    seed_key: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    country: Mapped[str] = mapped_column(String(2), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(64))
    addresses: Mapped[list[str]] = mapped_column(ARRAY(String(300)))


class EscalationMatrix(Versioned, Base):
    """A country's escalation matrix; a row with no levels means 'fall back to the TSC'."""

    __tablename__ = "escalation_matrices"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    after_hours: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class EscalationLevel(Base):
    __tablename__ = "escalation_levels"

    country: Mapped[str] = mapped_column(
        ForeignKey("escalation_matrices.country", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(200))
    phones: Mapped[list[str]] = mapped_column(ARRAY(String(64)))


class CityTier(Base):
    """A city's tier for dispatch targets; `city_key` is the case- and accent-free name."""

    __tablename__ = "city_tiers"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    city_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    city: Mapped[str] = mapped_column(String(120))
    tier: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime]


class AccountTeamMember(Base):
    __tablename__ = "account_team_members"

    id: Mapped[uuid.UUID] = mapped_column(default=new_id, index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(40))
    product_area: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime]

    __table_args__ = (PrimaryKeyConstraint("enterprise_id", "id"),)


class NotificationContact(Versioned, Timestamped, Base):
    __tablename__ = "notification_contacts"

    id: Mapped[uuid.UUID] = mapped_column(default=new_id, index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("enterprises.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2))
    events: Mapped[list[str]] = mapped_column(ARRAY(String(64)))

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "id"),
        page_index("notification_contacts", "enterprise_id"),
    )
