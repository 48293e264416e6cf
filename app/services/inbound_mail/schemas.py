"""Request and response bodies of mailboxes and inbound messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from app.core.schemas import RequestBody, ResponseBody
from app.services.enterprises.schemas import Country
from app.services.inbound_mail.rules import InboundStatus, Purpose, Source
from app.services.tickets.rules import Severity


class MailboxWrite(RequestBody):
    purpose: Purpose = Field(
        description="`technical_support`: mail opens tickets; `billing`: billing requests"
    )
    country: Country
    default_severity: Severity | None = Field(
        default=None, description="Severity of tickets this mailbox opens (default `minor`)"
    )


class MailboxRead(ResponseBody):
    address: str
    purpose: Purpose
    country: str
    default_severity: Severity | None
    updated_at: datetime
    version: int


class InboundMessageRead(ResponseBody):
    """A message as received and what became of it (its raw bytes stay in the database)."""

    id: uuid.UUID
    enterprise_id: uuid.UUID | None
    message_id: str | None
    source: Source
    mailbox: str
    sender: str | None
    subject: str | None
    size: int
    received_at: datetime
    status: InboundStatus
    reason: str | None = Field(description="Why the message waits for staff, or was discarded")
    result_type: str | None = Field(description="`ticket`, `billing_request`, `ticket_note`…")
    result_id: uuid.UUID | None
    result_number: str | None
    acknowledged_at: datetime | None
    processed_at: datetime | None
    updated_at: datetime
    version: int


class InboundAssign(RequestBody):
    enterprise_id: uuid.UUID
    service_code: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None,
        description="For a technical_support mail naming no service: the service it is about",
    )


class InboundDiscard(RequestBody):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
