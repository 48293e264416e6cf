"""Mail coming in: the mailboxes Carrier Desk answers for, and the messages that wait for
staff (a sender nobody knows, a message that cannot be processed as it is)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.core.deps import SessionDep, Write
from app.core.pagination import CursorPaging, Page
from app.services.inbound_mail import mailboxes, schemas, staff
from app.services.inbound_mail.policy import InboundWorker, MailboxAdmin, MailboxReader
from app.services.inbound_mail.rules import InboundStatus

router = APIRouter(tags=["inbound mail"])


@router.put(
    "/v1/mailboxes/{address}",
    summary="Declare a mailbox: what mail to this address becomes",
    description="`technical_support`: a contact's mail opens a ticket (the service named by "
    "its code in the subject or text); `billing`: a billing request. Mail to an address that "
    "is not declared is refused at RCPT (550).",
)
async def put_mailbox(
    address: str, payload: schemas.MailboxWrite, caller: MailboxAdmin, write: Write
) -> schemas.MailboxRead:
    return await write.answer(mailboxes.put_mailbox, caller, address, payload)


@router.get("/v1/mailboxes", summary="The mailboxes Carrier Desk answers for")
async def list_mailboxes(
    caller: MailboxReader, session: SessionDep, paging: CursorPaging
) -> Page[schemas.MailboxRead]:
    return await mailboxes.list_mailboxes(session, paging)


@router.delete("/v1/mailboxes/{address}", status_code=204, summary="Stop answering for a mailbox")
async def delete_mailbox(address: str, caller: MailboxAdmin, session: SessionDep) -> Response:
    await mailboxes.delete_mailbox(session, address)
    return Response(status_code=204)


@router.get(
    "/v1/inbound-messages",
    summary="Mail received, by status (`unmatched`: senders nobody knows)",
)
async def list_inbound_messages(
    caller: InboundWorker,
    session: SessionDep,
    paging: CursorPaging,
    status: Annotated[InboundStatus | None, Query()] = None,
) -> Page[schemas.InboundMessageRead]:
    return await staff.list_inbound_messages(session, caller, status, paging)


@router.get("/v1/inbound-messages/{message_id}", summary="One message received")
async def get_inbound_message(
    message_id: uuid.UUID, caller: InboundWorker, session: SessionDep
) -> schemas.InboundMessageRead:
    return await staff.get_inbound_message(session, caller, message_id)


@router.post(
    "/v1/inbound-messages/{message_id}/assign",
    summary="Say which enterprise a held message is from; it is then processed",
)
async def assign_inbound_message(
    message_id: uuid.UUID, payload: schemas.InboundAssign, caller: InboundWorker, write: Write
) -> schemas.InboundMessageRead:
    return await write.answer(staff.assign_inbound_message, caller, message_id, payload)


@router.post("/v1/inbound-messages/{message_id}/discard", summary="Discard a held message")
async def discard_inbound_message(
    message_id: uuid.UUID, payload: schemas.InboundDiscard, caller: InboundWorker, write: Write
) -> schemas.InboundMessageRead:
    return await write.answer(staff.discard_inbound_message, caller, message_id, payload)
