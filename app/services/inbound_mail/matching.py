"""Who sent a message, and what an answer names: enterprises by their contacts and users, and
the ticket or billing request a reply is about."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.countries import default_language
from app.core.roles import Role
from app.core.tenancy import Caller, visible_to
from app.models import (
    BillingRequest,
    Enterprise,
    Event,
    MailMessage,
    NotificationContact,
    Service,
    Ticket,
    User,
    UserEnterprise,
)
from app.services.billing.rules import REQUEST_NUMBER_PREFIX, request_number
from app.services.inbound_mail.references import numbers_in_subject, our_mail_ids

# The processing step acts for no person: as the system, on every tenant's mail. Its events
# name it `api_client:<this id>`, an id no API client has.
MAIL_CALLER = Caller(
    id=uuid.UUID("00000000-0000-4000-8000-00000000a11c"),
    kind="api_client",
    role=Role.provider_admin,
    name="inbound mail",
    enterprise_ids=frozenset(),
)


@dataclass(frozen=True, slots=True)
class KnownSender:
    enterprise_id: uuid.UUID
    name: str
    language: str
    # False for a sender staff assigned to an enterprise: nobody we know, so never answered.
    known: bool = True


async def senders_enterprises(session: AsyncSession, address: str) -> list[KnownSender]:
    """The enterprises whose notification contacts or users have this address (one entry per
    enterprise, the contact's name and language first)."""
    contacts = await session.execute(
        visible_to(
            select(
                NotificationContact.enterprise_id,
                NotificationContact.name,
                NotificationContact.language,
            ),
            MAIL_CALLER,
            NotificationContact.enterprise_id,
        )
        .where(func.lower(NotificationContact.email) == address)
        .order_by(NotificationContact.created_at)
    )
    users = await session.execute(
        visible_to(
            select(UserEnterprise.enterprise_id, User.name, User.language),
            MAIL_CALLER,
            UserEnterprise.enterprise_id,
        )
        .join(User, User.id == UserEnterprise.user_id)
        .where(func.lower(User.email) == address, User.revoked_at.is_(None))
    )
    found: dict[uuid.UUID, KnownSender] = {}
    for enterprise_id, name, language in [*contacts.all(), *users.all()]:
        found.setdefault(enterprise_id, KnownSender(enterprise_id, name, language))
    return list(found.values())


async def language_of(session: AsyncSession, enterprise_id: uuid.UUID) -> str:
    country = await session.scalar(
        visible_to(select(Enterprise.country), MAIL_CALLER, Enterprise.id).where(
            Enterprise.id == enterprise_id
        )
    )
    return default_language(country or "")


async def service_codes(session: AsyncSession, enterprise_id: uuid.UUID) -> list[str]:
    rows = await session.scalars(
        visible_to(select(Service.code), MAIL_CALLER, Service.enterprise_id)
        .where(Service.enterprise_id == enterprise_id)
        .order_by(Service.code)
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class Referenced:
    """A ticket or billing request a reply names."""

    kind: str  # "ticket" or "billing_request"
    id: uuid.UUID
    number: str
    enterprise_id: uuid.UUID


async def _by_number(session: AsyncSession, number: str) -> Referenced | None:
    if number.startswith(REQUEST_NUMBER_PREFIX):
        prefix = number.removeprefix(REQUEST_NUMBER_PREFIX).lower()
        rows = (
            await session.execute(
                visible_to(
                    select(BillingRequest.id, BillingRequest.enterprise_id),
                    MAIL_CALLER,
                    BillingRequest.enterprise_id,
                ).where(cast(BillingRequest.id, String).like(f"{prefix}%"))
            )
        ).all()
        # Two requests sharing the short form: the number names neither for sure.
        if len(rows) != 1:
            return None
        return Referenced("billing_request", rows[0].id, number, rows[0].enterprise_id)
    row = (
        await session.execute(
            visible_to(
                select(Ticket.id, Ticket.enterprise_id), MAIL_CALLER, Ticket.enterprise_id
            ).where(Ticket.number == number)
        )
    ).first()
    return Referenced("ticket", row.id, number, row.enterprise_id) if row else None


async def _by_our_mail(session: AsyncSession, mail_id: uuid.UUID) -> Referenced | None:
    row = (
        await session.execute(
            visible_to(
                select(Event.subject_type, Event.subject_id, Event.enterprise_id),
                MAIL_CALLER,
                Event.enterprise_id,
            )
            .join(
                MailMessage,
                and_(
                    MailMessage.enterprise_id == Event.enterprise_id,
                    MailMessage.event_id == Event.id,
                ),
            )
            .where(MailMessage.id == mail_id)
        )
    ).first()
    if row is None or row.enterprise_id is None:
        return None
    if row.subject_type == "ticket":
        number = await session.scalar(
            visible_to(select(Ticket.number), MAIL_CALLER, Ticket.enterprise_id).where(
                Ticket.id == row.subject_id
            )
        )
        if number is None:
            return None
        return Referenced("ticket", row.subject_id, number, row.enterprise_id)
    if row.subject_type == "billing_request":
        number = request_number(row.subject_id)
        return Referenced("billing_request", row.subject_id, number, row.enterprise_id)
    return None


async def referenced(
    session: AsyncSession, subject: str, references: tuple[str, ...]
) -> Referenced | None:
    """What a reply is about: the first number in brackets in the subject that names one,
    else the newest of our mails its In-Reply-To/References name."""
    for number in numbers_in_subject(subject):
        found = await _by_number(session, number)
        if found is not None:
            return found
    for mail_id in our_mail_ids(references):
        found = await _by_our_mail(session, mail_id)
        if found is not None:
            return found
    return None
