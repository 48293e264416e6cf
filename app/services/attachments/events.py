"""An attachment added to a ticket or a billing request: the event carries the file's reference
(id, name, type, size, link), never its bytes. An internal attachment is for staff as a whole
event, like an internal note: a customer is not even told that one was added."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import Field

from app.core.event_registry import EventPayload
from app.services.attachments.schemas import AttachmentVisibility
from app.services.tickets.events import TicketEvent


class AttachmentEvent(StrEnum):
    ticket_attachment_added = "ticket.attachment_added"
    billing_attachment_added = "billing.attachment_added"


class AttachmentAdded(EventPayload):
    attachment_id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    visibility: AttachmentVisibility
    href: str = Field(description="Where the bytes are downloaded (with the caller's token)")

    def for_customer(self) -> dict[str, Any] | None:
        if self.visibility is AttachmentVisibility.internal:
            return None  # the whole event: not even that a file was added
        return super().for_customer()


class TicketAttachmentAdded(
    AttachmentAdded, TicketEvent, event_type=AttachmentEvent.ticket_attachment_added
): ...


class BillingAttachmentAdded(
    AttachmentAdded,
    subject_type="billing_request",
    event_type=AttachmentEvent.billing_attachment_added,
): ...


def tmf_attachment_ref(added: AttachmentAdded) -> dict[str, Any]:
    """The file as TMF621 v4 lists it on a trouble ticket (`AttachmentRefOrValue`, by
    reference): the bytes are at `url`, downloaded with the caller's token."""
    return {
        "id": str(added.attachment_id),
        "href": added.href,
        "url": added.href,
        "name": added.filename,
        "mimeType": added.content_type,
        "size": {"amount": added.size, "units": "bytes"},
        "@type": "AttachmentRef",
        "@referredType": "Attachment",
    }
