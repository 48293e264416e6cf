"""The mail log: every notification written, and whether it went out."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import Field

from app.schemas.common import ResponseBody


class MailStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    not_sent = "not_sent"
    failed = "failed"


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
