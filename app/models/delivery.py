"""Delivery: webhook endpoints (Standard Webhooks and TMF621 hubs), their deliveries and attempts,
and the mail queue."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import (
    NO_TENANT,
    Base,
    TenantKey,
    Timestamped,
    Versioned,
    new_id,
    tenant_foreign_key,
)


class MailMessage(Base):
    """A message to send over SMTP; kept, with the reason, when it cannot be sent."""

    __tablename__ = "mail_messages"

    id: Mapped[uuid.UUID] = mapped_column(default=new_id, index=True)
    # None (stored as NO_TENANT) for mail to staff about no enterprise (a password reset).
    enterprise_id: Mapped[uuid.UUID | None] = mapped_column(TenantKey, default=NO_TENANT)
    event_id: Mapped[int | None] = mapped_column(BigInteger)
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2), default="en")
    subject: Mapped[str] = mapped_column(String(300))
    # A one-time link (a password reset, an invitation) is not in `body`, which keeps
    # `ONE_TIME_LINK_MARK` in its place: it waits here until the message is sent or given up,
    # then is erased, so the mail log never holds a usable link.
    body: Mapped[str] = mapped_column(Text)
    one_time_link: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "id"),
        tenant_foreign_key("event_id", "events"),
        Index(
            "ix_mail_messages_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )


class WebhookEndpoint(Versioned, Timestamped, Base):
    """Where an enterprise's events are POSTed: a signed webhook or a TMF621 hub listener."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(default=new_id, index=True)
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    # `standard` (Standard Webhooks, /v1/webhooks) or `tmf621` (a TMF hub listener).
    kind: Mapped[str] = mapped_column(String(16), default="standard")
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSONB, default=list)
    description: Mapped[str | None] = mapped_column(String(500))
    owner_email: Mapped[str | None] = mapped_column(String(254))
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="active")
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    failing_since: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(120))

    __table_args__ = (PrimaryKeyConstraint("enterprise_id", "id"),)


class WebhookDelivery(Base):
    """One event to one endpoint: the message every attempt re-sends with the same id."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[uuid.UUID] = mapped_column(default=new_id, index=True)
    endpoint_id: Mapped[uuid.UUID]
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    event_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Appended to the endpoint's URL: a Sonata hub hears each event type at its own path.
    listener_path: Mapped[str | None] = mapped_column(String(300))
    # pending (waiting or in flight), succeeded, failed (given up).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "id"),
        tenant_foreign_key("endpoint_id", "webhook_endpoints"),
        tenant_foreign_key("event_id", "events"),
        UniqueConstraint("enterprise_id", "endpoint_id", "event_id"),
        # The claim: the head of each endpoint's queue, one probe per endpoint.
        Index(
            "ix_webhook_deliveries_pending",
            "endpoint_id",
            "event_id",
            postgresql_where=text("status = 'pending'"),
        ),
    )


class WebhookAttempt(Base):
    """One POST of a delivery: what the receiver answered, or why it could not."""

    __tablename__ = "webhook_attempts"

    id: Mapped[uuid.UUID] = mapped_column(default=new_id, index=True)
    delivery_id: Mapped[uuid.UUID]
    endpoint_id: Mapped[uuid.UUID]
    enterprise_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("enterprises.id"))
    event_id: Mapped[int] = mapped_column(BigInteger)
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        PrimaryKeyConstraint("enterprise_id", "id"),
        tenant_foreign_key("delivery_id", "webhook_deliveries"),
        tenant_foreign_key("endpoint_id", "webhook_endpoints"),
        Index("ix_webhook_attempts_endpoint_id_attempted_at", "endpoint_id", "attempted_at"),
        Index("ix_webhook_attempts_delivery_id", "delivery_id"),
    )
