"""A message's attachments on what it became: through the attachments feature's
`add_attachment`, in the transaction that writes the ticket, note or request."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import field_error
from app.core.settings import get_settings
from app.services.attachments.rules import Limits, file_too_large, owner_would_overflow
from app.services.attachments.service import OwnerRef, add_attachment, attachment_limits
from app.services.inbound_mail.parsing import Attachment, ParsedMail
from app.services.tickets.schemas import NoteVisibility


def limits() -> Limits:
    # The same settings the upload endpoints read (CARRIERDESK_ATTACHMENT_*).
    return attachment_limits(get_settings())


def files_of(parsed: ParsedMail) -> list[Attachment]:
    """The parts worth keeping: an empty part is no file."""
    return [a for a in parsed.attachments if a.data]


def check_new_owner(parsed: ParsedMail) -> None:
    """Refuse, before anything is written, files that a new ticket or request could not hold
    (a 422 naming why; the message is then held with that reason)."""
    total = 0
    for file in files_of(parsed):
        problem = file_too_large(len(file.data), limits()) or owner_would_overflow(
            len(file.data), total, limits()
        )
        if problem is not None:
            raise field_error("attachments", f"{file.filename}: {problem}")
        total += len(file.data)


async def attach_mail_files(
    session: AsyncSession,
    clock: Clock,
    parsed: ParsedMail,
    owner: OwnerRef,
    enterprise_id: uuid.UUID,
) -> int:
    """Add the message's files to `owner` in the open transaction (the caller commits);
    answer how many. A file over a limit raises, and the caller's transaction rolls back."""
    files = files_of(parsed)
    for file in files:
        await add_attachment(
            session,
            owner=owner,
            enterprise_id=enterprise_id,
            filename=file.filename,
            content_type=file.content_type,
            data=file.data,
            visibility=NoteVisibility.public,
            author=f"mail:{parsed.sender or 'unknown'}",
            at=clock.now(),
            limits=limits(),
        )
    return len(files)
