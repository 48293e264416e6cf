"""Platform tables: idempotent answers, the event history and its outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import NO_TENANT, Base, TenantKey, tenant_foreign_key


class IdempotencyRecord(Base):
    """The first answer to a creating POST, replayed to a retry with the same key."""

    __tablename__ = "idempotency_records"

    principal: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[Any] = mapped_column(JSONB)
    headers: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime]


class Event(Base):
    """One thing that happened to a ticket, order or request: its history."""

    __tablename__ = "events"

    # A plain sequence (`events_id_seq`, owned by the column), not an identity column: Citus
    # draws a distributed table's sequence values on the coordinator, in one order for all.
    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True, index=True)
    # None (stored as NO_TENANT) for the provider's own events, seen by staff only.
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(TenantKey, default=NO_TENANT)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID]
    type: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "id"),
        Index("ix_events_subject_type_subject_id_id", "subject_type", "subject_id", "id"),
    )


class OutboxMessage(Base):
    """An event waiting to be fanned out to mail and webhooks; written with the event."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger, autoincrement=True, index=True)
    event_id: Mapped[int] = mapped_column(BigInteger)
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(TenantKey, default=NO_TENANT)
    created_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "id"),
        tenant_foreign_key("event_id", "events"),
        UniqueConstraint("enterprise_id", "event_id"),
        Index("ix_outbox_pending", "id", postgresql_where=text("processed_at IS NULL")),
    )
