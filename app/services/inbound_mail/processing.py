"""What a stored message becomes: a ticket, a billing request, a note on one of them, or a
message held for staff. One transaction per message, claimed `FOR UPDATE SKIP LOCKED`, so any
number of workers can process and a crash leaves the message to be processed again."""

from __future__ import annotations

import logging
import uuid

from pydantic import ValidationError
from sqlalchemy import Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import Problem
from app.core.tenancy import visible_to
from app.models import InboundMessage, Mailbox
from app.services.attachments.service import OwnerRef
from app.services.billing import service as billing
from app.services.billing.rules import BillingType, request_number
from app.services.billing.schemas import BillingRequestCreate, Channel
from app.services.inbound_mail.acknowledgements import acknowledge
from app.services.inbound_mail.attaching import attach_mail_files, check_new_owner
from app.services.inbound_mail.matching import (
    MAIL_CALLER,
    KnownSender,
    Referenced,
    language_of,
    referenced,
    senders_enterprises,
    service_codes,
)
from app.services.inbound_mail.parsing import ParsedMail, parse_mail
from app.services.inbound_mail.rules import (
    InboundStatus,
    Purpose,
    Reason,
    Source,
    names_invoice_reference,
    recognised_service,
    without_service,
)
from app.services.tickets.conversation import add_note
from app.services.tickets.intake import open_ticket
from app.services.tickets.rules import Channel as TicketChannel
from app.services.tickets.rules import Severity
from app.services.tickets.schemas import Contact, NoteIn, NoteVisibility, TicketCreate

logger = logging.getLogger("carrierdesk.inbound")

SUMMARY_LIMIT = 200
TEXT_LIMIT = 10_000
NO_SUBJECT = "(no subject)"


class Held(Exception):
    """The message waits for staff: `status` unmatched or held, with the reason."""

    def __init__(self, status: InboundStatus, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = f"{reason.value}: {detail}"


def _claim() -> Select[tuple[InboundMessage]]:
    return (
        visible_to(select(InboundMessage), MAIL_CALLER, InboundMessage.enterprise_id)
        .where(InboundMessage.status == InboundStatus.received.value)
        .order_by(InboundMessage.received_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


async def process_next(session: AsyncSession, clock: Clock) -> bool:
    """Process the oldest stored message nobody else is processing; False when none waits."""
    row = (await session.execute(_claim())).scalar_one_or_none()
    if row is None:
        await session.rollback()
        return False
    await process_claimed(session, clock, row)
    return True


async def process_claimed(
    session: AsyncSession,
    clock: Clock,
    row: InboundMessage,
    *,
    enterprise_id: uuid.UUID | None = None,
    service_code: str | None = None,
) -> None:
    """Process a message locked by this transaction; commit what it became. Staff assigning
    a held message name its enterprise (and perhaps its service)."""
    message_id = row.id
    try:
        await _process(session, clock, row, enterprise_id, service_code)
        return
    except Held as held:
        status, reason = held.status, held.reason
    except (Problem, ValidationError) as exc:
        # What the use cases refuse (a field they find wrong) is a reason for staff to look.
        detail = exc.detail if isinstance(exc, Problem) else str(exc).splitlines()[0]
        status, reason = InboundStatus.held, f"{Reason.rejected.value}: {detail}"
    except Exception as exc:
        # A bug must not send the message round the loop forever: staff see it, nothing is lost.
        logger.exception("inbound message %s: processing failed", message_id)
        status, reason = InboundStatus.held, f"{Reason.failed.value}: {type(exc).__name__}"
    # Who sent it and what it says, kept on the held row: staff list them.
    read = {"sender": row.sender, "subject": row.subject}
    await session.rollback()
    await session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == message_id)
        .values(
            status=status.value,
            reason=reason[:2000],
            updated_at=clock.now(),
            version=InboundMessage.version + 1,
            **read,
        )
    )
    await session.commit()


async def _process(
    session: AsyncSession,
    clock: Clock,
    row: InboundMessage,
    assigned: uuid.UUID | None,
    service_code: str | None,
) -> None:
    mailbox = await session.get(Mailbox, row.mailbox)
    parsed = parse_mail(row.raw, row.envelope_from if row.source == Source.smtp.value else None)
    row.sender = parsed.sender
    row.subject = parsed.subject[:300] or None
    if mailbox is None:
        raise Held(InboundStatus.held, Reason.not_a_mailbox, f"{row.mailbox} is not declared")
    if parsed.problem is not None and assigned is None:
        raise Held(InboundStatus.held, *parsed.problem)
    if parsed.automatic is not None and assigned is None:
        raise Held(InboundStatus.held, Reason.automatic_mail, parsed.automatic)
    sender = await _sender(session, parsed, assigned)
    row.enterprise_id = sender.enterprise_id
    about = await referenced(session, parsed.subject, parsed.references)
    if about is not None and about.enterprise_id != sender.enterprise_id:
        # Never a note on someone else's ticket: a held message, for staff to look at.
        raise Held(
            InboundStatus.held,
            Reason.foreign_reference,
            f"{about.number} is not a {about.kind.replace('_', ' ')} of the sender's enterprise",
        )
    if about is not None:
        await _note(session, clock, row, parsed, about)
    elif mailbox.purpose == Purpose.billing.value:
        await _billing_request(session, clock, row, parsed, sender)
    else:
        await _ticket(session, clock, row, parsed, sender, mailbox, service_code)


async def _sender(
    session: AsyncSession, parsed: ParsedMail, assigned: uuid.UUID | None
) -> KnownSender:
    known = await senders_enterprises(session, parsed.sender) if parsed.sender else []
    if assigned is not None:
        for sender in known:
            if sender.enterprise_id == assigned:
                return sender
        name = parsed.sender_name or parsed.sender or ""
        return KnownSender(assigned, name, await language_of(session, assigned), known=False)
    if not known:
        raise Held(InboundStatus.unmatched, Reason.unknown_sender, f"{parsed.sender} is unknown")
    if len(known) > 1:
        raise Held(
            InboundStatus.unmatched,
            Reason.several_enterprises,
            f"{parsed.sender} is a contact of {len(known)} enterprises",
        )
    return known[0]


def _text(parsed: ParsedMail) -> str:
    return parsed.text[:TEXT_LIMIT]


def _done(row: InboundMessage, clock: Clock, kind: str, result_id: uuid.UUID, number: str) -> None:
    now = clock.now()
    row.status = InboundStatus.processed.value
    row.reason = None
    row.result_type = kind
    row.result_id = result_id
    row.result_number = number
    row.processed_at = row.updated_at = now
    row.version += 1


async def _note(
    session: AsyncSession, clock: Clock, row: InboundMessage, parsed: ParsedMail, about: Referenced
) -> None:
    body = f"Mail from {parsed.sender}: {parsed.subject}\n\n{_text(parsed)}".strip()[:TEXT_LIMIT]
    _done(row, clock, f"{about.kind}_note", about.id, about.number)
    await session.flush()
    # The note's use case commits, and this row's change and the files with it.
    if about.kind == "ticket":
        await attach_mail_files(
            session, clock, parsed, OwnerRef.ticket(about.id), about.enterprise_id
        )
        note = NoteIn(body=body, visibility=NoteVisibility.public)
        await add_note(session, MAIL_CALLER, clock, about.id, note)
    else:
        owner = OwnerRef.billing_request(about.id)
        await attach_mail_files(session, clock, parsed, owner, about.enterprise_id)
        await billing.add_note(session, MAIL_CALLER, clock, about.id, body)


async def _ticket(
    session: AsyncSession,
    clock: Clock,
    row: InboundMessage,
    parsed: ParsedMail,
    sender: KnownSender,
    mailbox: Mailbox,
    service_code: str | None,
) -> None:
    codes = await service_codes(session, sender.enterprise_id)
    code = service_code or recognised_service(codes, parsed.subject, parsed.text)
    if code is None:
        hold = without_service()
        if hold is not None:
            raise Held(InboundStatus.held, hold, "no service code of the enterprise is named")
    payload = TicketCreate(
        enterprise_id=sender.enterprise_id,
        service_code=code,
        severity=Severity(mailbox.default_severity or Severity.minor.value),
        summary=(parsed.subject or NO_SUBJECT)[:SUMMARY_LIMIT],
        description=_text(parsed),
        contact=Contact(name=(sender.name or parsed.sender or "?")[:200], email=parsed.sender),
        reported_at=row.received_at,
    )
    ticket = await open_ticket(
        session, MAIL_CALLER, clock, None, payload, commit=False, face=TicketChannel.email
    )
    owner = OwnerRef.ticket(ticket.id)
    await attach_mail_files(session, clock, parsed, owner, sender.enterprise_id)
    _done(row, clock, "ticket", ticket.id, ticket.number)
    await acknowledge(
        session, clock, row, parsed, sender, "mail_received_ticket", {"number": ticket.number}
    )
    await session.commit()


async def _billing_request(
    session: AsyncSession,
    clock: Clock,
    row: InboundMessage,
    parsed: ParsedMail,
    sender: KnownSender,
) -> None:
    payload = BillingRequestCreate(
        enterprise_id=sender.enterprise_id,
        type=(
            BillingType.invoice_reference
            if names_invoice_reference(parsed.subject, parsed.text)
            else BillingType.inquiry
        ),
        subject=(parsed.subject or NO_SUBJECT)[:SUMMARY_LIMIT],
        description=_text(parsed),
        channel=Channel.email,
        received_at=row.received_at,
    )
    check_new_owner(parsed)  # the files are added after the request's own commit
    row.status = InboundStatus.processed.value
    row.result_type = "billing_request"
    row.processed_at = row.updated_at = clock.now()
    await session.flush()
    # The use case commits this row's change with the request; the link and the
    # acknowledgement follow in a second transaction (the request's id is known only then).
    request = await billing.create_billing_request(session, MAIL_CALLER, clock, None, payload)
    number = request_number(request.id)
    owner = OwnerRef.billing_request(request.id)
    await attach_mail_files(session, clock, parsed, owner, sender.enterprise_id)
    _done(row, clock, "billing_request", request.id, number)
    context = {"number": number, "ack_due": request.ack_due_at.strftime("%Y-%m-%d %H:%M")}
    await acknowledge(session, clock, row, parsed, sender, "mail_received_billing", context)
    await session.commit()
