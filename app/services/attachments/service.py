"""Attachments: the use cases.

- `add_attachment(session, *, owner, enterprise_id, filename, content_type, data, visibility,
  author, at, limits) -> AttachmentRead`: for a channel that runs its own transaction (inbound
  mail): checks, stores, records the event; never commits (the caller does).
- `upload_attachment(session, caller, clock, claim, owner, upload, limits) -> AttachmentRead`:
  the API's upload, one transaction, committed with its `Idempotency-Key` answer.
- `list_attachments(session, caller, owner, paging) -> Page[AttachmentRead]`
- `attachment_content(session, caller, owner, attachment_id) -> Download`
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from app.core.clock import Clock
from app.core.errors import Forbidden, NotFound, PayloadTooLarge, field_error
from app.core.events import record_event
from app.core.idempotency import IdempotencyClaim, commit_creation
from app.core.orm_pages import fetch_page
from app.core.pagination import Page, PageParams
from app.core.settings import Settings
from app.core.tenancy import Caller, find_visible, visible_to
from app.models import Attachment, BillingRequest, Ticket
from app.services.attachments.events import (
    AttachmentAdded,
    BillingAttachmentAdded,
    TicketAttachmentAdded,
)
from app.services.attachments.rules import (
    AttachmentOwner,
    Limits,
    content_disposition,
    file_too_large,
    owner_would_overflow,
    safe_filename,
    stored_content_type,
)
from app.services.attachments.schemas import (
    AttachmentRead,
    AttachmentVisibility,
    Download,
    Upload,
)


@dataclass(frozen=True, slots=True)
class OwnerRef:
    """The ticket or billing request a file hangs on."""

    kind: AttachmentOwner
    id: uuid.UUID

    @classmethod
    def ticket(cls, ticket_id: uuid.UUID) -> OwnerRef:
        return cls(AttachmentOwner.ticket, ticket_id)

    @classmethod
    def billing_request(cls, request_id: uuid.UUID) -> OwnerRef:
        return cls(AttachmentOwner.billing_request, request_id)

    @property
    def href(self) -> str:
        if self.kind is AttachmentOwner.ticket:
            return f"/v1/tickets/{self.id}/attachments"
        return f"/v1/billing-requests/{self.id}/attachments"

    @property
    def what(self) -> str:
        return "ticket" if self.kind is AttachmentOwner.ticket else "billing request"


def attachment_limits(settings: Settings) -> Limits:
    return Limits(per_file=settings.attachment_max_bytes, per_owner=settings.attachment_total_bytes)


def _owner_model(owner: OwnerRef) -> Any:
    return Ticket if owner.kind is AttachmentOwner.ticket else BillingRequest


def _owner_column(owner: OwnerRef) -> Any:
    if owner.kind is AttachmentOwner.ticket:
        return Attachment.ticket_id
    return Attachment.billing_request_id


def _read(owner: OwnerRef, row: Attachment) -> AttachmentRead:
    return AttachmentRead(
        id=row.id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        sha256=row.sha256,
        visibility=AttachmentVisibility(row.visibility),
        created_at=row.created_at,
        author=row.author,
        href=f"{owner.href}/{row.id}",
    )


async def _owner_of_enterprise(
    session: AsyncSession, owner: OwnerRef, enterprise_id: uuid.UUID
) -> Any:
    """The owner's row, locked, when it belongs to `enterprise_id` (the enterprise the calling
    channel already decided on); else a 404. The lock makes the owner's total exact."""
    model = _owner_model(owner)
    row = (
        await session.execute(
            select(model)
            .where(model.id == owner.id, model.enterprise_id == enterprise_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"{owner.what} {owner.id} not found")
    return row


async def _stored_bytes(session: AsyncSession, owner: OwnerRef) -> int:
    """The bytes the owner's files hold already (their sizes; the bytes themselves unread)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Attachment.size), 0)).where(_owner_column(owner) == owner.id)
    )
    return int(total or 0)


def _check_file(data: bytes, limits: Limits) -> None:
    if not data:
        raise field_error("file", "the file is empty")
    too_large = file_too_large(len(data), limits)
    if too_large is not None:
        raise PayloadTooLarge(too_large, limit_bytes=limits.per_file)


async def _store(
    session: AsyncSession,
    owner: OwnerRef,
    owner_row: Any,
    *,
    filename: str | None,
    content_type: str | None,
    data: bytes,
    visibility: AttachmentVisibility,
    author: str,
    at: datetime,
    limits: Limits,
) -> AttachmentRead:
    """Keep the file on the (locked) owner row and record the event; no commit."""
    _check_file(data, limits)
    overflow = owner_would_overflow(len(data), await _stored_bytes(session, owner), limits)
    if overflow is not None:
        raise PayloadTooLarge(overflow, limit_bytes=limits.per_owner)
    row = Attachment(
        id=uuid.uuid4(),
        enterprise_id=owner_row.enterprise_id,
        ticket_id=owner.id if owner.kind is AttachmentOwner.ticket else None,
        billing_request_id=owner.id if owner.kind is AttachmentOwner.billing_request else None,
        filename=safe_filename(filename),
        content_type=stored_content_type(content_type),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        visibility=visibility.value,
        author=author,
        created_at=at,
        data=data,
    )
    session.add(row)
    await session.flush()
    read = _read(owner, row)
    await record_event(
        session,
        _event(owner, owner_row, read),
        subject_id=owner.id,
        at=at,
        actor=author,
        enterprise_id=owner_row.enterprise_id,
    )
    return read


def _event(owner: OwnerRef, owner_row: Any, read: AttachmentRead) -> AttachmentAdded:
    reference = {
        "attachment_id": read.id,
        "filename": read.filename,
        "content_type": read.content_type,
        "size": read.size,
        "sha256": read.sha256,
        "visibility": read.visibility,
        "href": read.href,
    }
    if owner.kind is AttachmentOwner.ticket:
        return TicketAttachmentAdded(number=owner_row.number, **reference)
    return BillingAttachmentAdded(**reference)


async def add_attachment(
    session: AsyncSession,
    *,
    owner: OwnerRef,
    enterprise_id: uuid.UUID,
    filename: str | None,
    content_type: str | None,
    data: bytes,
    visibility: AttachmentVisibility,
    author: str,
    at: datetime,
    limits: Limits,
) -> AttachmentRead:
    """Attach a file to a ticket or billing request of `enterprise_id`, inside the caller's
    transaction: the caller commits (or rolls back, and nothing of the file remains).

    The name is made safe, a malformed type becomes application/octet-stream, and the event
    (`ticket.attachment_added` / `billing.attachment_added`) is recorded with its reference.
    `author` names who added it in the history (at most 320 characters: `mail:<address>`).
    Raises `NotFound` (no such owner in that enterprise), `PayloadTooLarge` (over a limit), or a
    422 for an empty file; nothing is written then."""
    owner_row = await _owner_of_enterprise(session, owner, enterprise_id)
    return await _store(
        session,
        owner,
        owner_row,
        filename=filename,
        content_type=content_type,
        data=data,
        visibility=visibility,
        author=author,
        at=at,
        limits=limits,
    )


async def upload_attachment(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    owner: OwnerRef,
    upload: Upload,
    limits: Limits,
) -> AttachmentRead:
    """A caller's upload: on a ticket or request the caller sees (else 404); internal files by
    staff only (403); committed with its `Idempotency-Key` answer."""
    owner_row = await find_visible(
        session, caller, _owner_model(owner), owner.id, what=owner.what, lock=True
    )
    if upload.visibility is AttachmentVisibility.internal and not caller.is_provider:
        raise Forbidden("only provider staff may add internal attachments")
    read = await _store(
        session,
        owner,
        owner_row,
        filename=upload.filename,
        content_type=upload.content_type,
        data=upload.data,
        visibility=upload.visibility,
        author=caller.actor,
        at=clock.now(),
        limits=limits,
    )
    await commit_creation(session, claim, read)
    return read


def _seen_by(caller: Caller, owner: OwnerRef) -> Any:
    """The owner's files the caller may see: all for staff, public ones for customers."""
    stmt = visible_to(select(Attachment), caller, Attachment.enterprise_id).where(
        _owner_column(owner) == owner.id
    )
    if not caller.is_provider:
        stmt = stmt.where(Attachment.visibility == AttachmentVisibility.public.value)
    return stmt


async def list_attachments(
    session: AsyncSession, caller: Caller, owner: OwnerRef, paging: PageParams
) -> Page[AttachmentRead]:
    """The owner's files in the order they came, a page at a time, without their bytes."""
    await find_visible(session, caller, _owner_model(owner), owner.id, what=owner.what)
    rows, cursor = await fetch_page(
        session, _seen_by(caller, owner), paging, Attachment.created_at, Attachment.id
    )
    return Page(items=[_read(owner, row) for row in rows], next_cursor=cursor)


async def attachment_content(
    session: AsyncSession, caller: Caller, owner: OwnerRef, attachment_id: uuid.UUID
) -> Download:
    """One file's bytes (the only read that loads them); an internal file is, to a customer,
    not there."""
    await find_visible(session, caller, _owner_model(owner), owner.id, what=owner.what)
    row = (
        await session.execute(
            _seen_by(caller, owner)
            .where(Attachment.id == attachment_id)
            .options(undefer(Attachment.data))
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"attachment {attachment_id} not found")
    return Download(
        data=row.data,
        content_type=row.content_type,
        content_disposition=content_disposition(row.content_type, row.filename),
        sha256=row.sha256,
    )
