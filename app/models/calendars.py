"""Business calendars per country and their extra closed days."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, Versioned


class CountryCalendar(Versioned, Base):
    """A country's time zone, office hours and holiday categories (defaults when absent)."""

    __tablename__ = "country_calendars"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    # {"0": ["09:00", "18:00"], ...}: weekday (0 = Monday) to local open/close.
    office_hours: Mapped[dict[str, Any]] = mapped_column(JSONB)
    holiday_categories: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    updated_at: Mapped[datetime]


class ClosedDay(Base):
    """An extra day the offices of a country are closed, beyond its public holidays."""

    __tablename__ = "closed_days"

    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
