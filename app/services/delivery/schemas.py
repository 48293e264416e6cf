"""Webhook endpoints, their secrets and delivery log; the mail log."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum, auto
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from app.core.event_registry import names_an_event
from app.core.schemas import Email, RequestBody, ResponseBody


def _check_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        if not names_an_event(pattern):
            raise ValueError(f"{pattern!r} names no event")
    return patterns


Pattern = Annotated[str, StringConstraints(min_length=1, max_length=80)]

Patterns = Annotated[
    list[Pattern],
    Field(min_length=1, max_length=50, examples=[["ticket.*", "maintenance.*"]]),
    AfterValidator(_check_patterns),
]

Url = Annotated[str, StringConstraints(min_length=1, max_length=2048)]


class WebhookStatus(StrEnum):
    active = auto()
    disabled = auto()


class WebhookCreate(RequestBody):
    url: Url = Field(description="http(s) URL; private addresses are refused unless allowed")
    events: Patterns = Field(description="Event type patterns, e.g. `ticket.*`")
    enterprise_id: uuid.UUID | None = Field(
        default=None, description="Needed only when the caller acts for several enterprises"
    )
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    owner_email: Email | None = Field(
        default=None, description="Mailed when the endpoint is disabled after days of failure"
    )


class WebhookUpdate(RequestBody):
    url: Url | None = None
    events: Patterns | None = None
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    owner_email: Email | None = None
    status: WebhookStatus | None = Field(
        default=None, description="`active` re-enables an endpoint disabled after failures"
    )


class WebhookRead(ResponseBody):
    id: uuid.UUID
    enterprise_id: uuid.UUID
    url: str
    events: list[str]
    description: str | None
    owner_email: str | None
    status: str
    disabled_reason: str | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="While set and in the future, deliveries are signed with both secrets"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="Shown once: `whsec_` and base64, for Standard Webhooks")


class SecretRotation(RequestBody):
    overlap_seconds: int = Field(
        default=86_400,
        ge=0,
        le=7 * 86_400,
        description="How long the previous secret keeps signing beside the new one",
    )


class SecretRotated(ResponseBody):
    secret: str = Field(description="The new secret, shown once")
    previous_secret_expires_at: datetime


class DeliveryAttemptRead(ResponseBody):
    id: uuid.UUID
    delivery_id: uuid.UUID
    event_id: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    response_excerpt: str | None
    error: str | None


class DeliveryRead(ResponseBody):
    id: uuid.UUID
    event_id: int
    message_id: str = Field(description="The `webhook-id` header, the same on every retry")
    status: str = Field(description="pending, succeeded or failed (given up)")
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


class MailStatus(StrEnum):
    pending = auto()
    sent = auto()
    not_sent = auto()
    failed = auto()


class MailRead(ResponseBody):
    id: uuid.UUID
    enterprise_id: uuid.UUID | None
    event_id: int | None
    recipient: str
    language: str
    subject: str
    status: str = Field(
        description="pending (waiting or retrying), sent, not_sent (no SMTP server configured: "
        "kept with the reason), failed (given up after retries)"
    )
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime
