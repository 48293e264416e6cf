"""What an attachment looks like to a caller, and what an upload carries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from pydantic import Field

from app.core.schemas import ResponseBody
from app.services.tickets.schemas import NoteVisibility

# Attachments are public or internal exactly as notes are: one vocabulary, one rule.
AttachmentVisibility = NoteVisibility


class AttachmentRead(ResponseBody):
    """One file's description; its bytes are at `href`."""

    id: uuid.UUID
    filename: str = Field(description="The name it was given, made safe to save and show")
    content_type: str = Field(
        description="As claimed by the uploader when well formed, else application/octet-stream"
    )
    size: int = Field(description="Bytes")
    sha256: str = Field(description="Hex SHA-256 of the bytes")
    visibility: AttachmentVisibility
    created_at: datetime
    author: str = Field(description="Who added it: `api_client:<id>`, `user:<id>` or `mail:…`")
    href: str = Field(description="Where to download the bytes")


@dataclass(frozen=True, slots=True)
class Upload:
    """One file as it arrived (a form part or a mail part), before it is made safe and kept."""

    filename: str | None
    content_type: str | None
    data: bytes
    visibility: AttachmentVisibility = NoteVisibility.public


@dataclass(frozen=True, slots=True)
class Download:
    """A file's bytes and how to serve them."""

    data: bytes
    content_type: str
    content_disposition: str
    sha256: str
