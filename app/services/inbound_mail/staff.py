"""Staff and held mail: the list of what waits, assigning a message to an enterprise (then it
is processed), discarding it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import Conflict
from app.core.orm_pages import fetch_page
from app.core.pagination import Page, PageParams
from app.core.reads import read_of
from app.core.tenancy import Caller, find_visible, visible_to
from app.models import InboundMessage
from app.services.enterprises.service import get_enterprise
from app.services.inbound_mail.processing import process_claimed
from app.services.inbound_mail.rules import WAITING_FOR_STAFF, InboundStatus
from app.services.inbound_mail.schemas import InboundAssign, InboundDiscard, InboundMessageRead


async def list_inbound_messages(
    session: AsyncSession, caller: Caller, status: InboundStatus | None, params: PageParams
) -> Page[InboundMessageRead]:
    stmt = visible_to(select(InboundMessage), caller, InboundMessage.enterprise_id)
    if status is not None:
        stmt = stmt.where(InboundMessage.status == status.value)
    rows, cursor = await fetch_page(
        session, stmt, params, InboundMessage.updated_at, InboundMessage.id
    )
    return Page(items=[read_of(InboundMessageRead, r) for r in rows], next_cursor=cursor)


async def get_inbound_message(
    session: AsyncSession, caller: Caller, message_id: uuid.UUID
) -> InboundMessageRead:
    row = await find_visible(session, caller, InboundMessage, message_id, what="inbound message")
    return read_of(InboundMessageRead, row)


async def _waiting(session: AsyncSession, caller: Caller, message_id: uuid.UUID) -> InboundMessage:
    row = await find_visible(
        session, caller, InboundMessage, message_id, what="inbound message", lock=True
    )
    if InboundStatus(row.status) not in WAITING_FOR_STAFF:
        raise Conflict(
            f"inbound message {message_id} is {row.status}; only unmatched or held mail "
            "can be assigned or discarded"
        )
    return row


async def assign_inbound_message(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    message_id: uuid.UUID,
    payload: InboundAssign,
) -> InboundMessageRead:
    """The enterprise a held message is from, as staff know it; then it is processed as if its
    sender had been matched (no acknowledgement goes to a sender nobody knows)."""
    await get_enterprise(session, caller, payload.enterprise_id)
    row = await _waiting(session, caller, message_id)
    await process_claimed(
        session,
        clock,
        row,
        enterprise_id=payload.enterprise_id,
        service_code=payload.service_code,
    )
    session.expire_all()
    return await get_inbound_message(session, caller, message_id)


async def discard_inbound_message(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    message_id: uuid.UUID,
    payload: InboundDiscard,
) -> InboundMessageRead:
    """Staff are done with a held message; it stays stored, marked discarded."""
    row = await _waiting(session, caller, message_id)
    row.status = InboundStatus.discarded.value
    row.reason = f"discarded by {caller.actor}" + (f": {payload.reason}" if payload.reason else "")
    row.updated_at = clock.now()
    row.version += 1
    await session.flush()
    answer = read_of(InboundMessageRead, row)
    await session.commit()
    return answer
