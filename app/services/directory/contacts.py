"""Notification contacts per enterprise: who gets mailed for which events."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Uuid, any_, bindparam, delete, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.countries import default_language
from app.core.errors import field_error
from app.core.etag import check_if_match
from app.core.event_registry import pattern_matches
from app.core.idempotency import IdempotencyClaim, commit_new_row
from app.core.pagination import Page, PageParams
from app.core.reads import read_of
from app.core.row_versions import new_version
from app.core.tenancy import Caller, find_visible
from app.models import Enterprise, NotificationContact
from app.services.directory.rules import PhoneNumber, to_e164
from app.services.directory.schemas import ContactCreate, ContactRead, ContactUpdate, Language
from app.services.enterprises.service import get_enterprise, page_of_enterprise


def contact_read(contact: NotificationContact) -> ContactRead:
    phone = None
    if contact.phone:
        phone = PhoneNumber(display=contact.phone, e164=contact.phone_e164)
    return read_of(ContactRead, contact, phone=phone)


def _e164(text: str, country: str) -> str:
    e164 = to_e164(text, country)
    if e164 is None:
        raise field_error("phone", f"{text!r} is not a valid phone number for {country}")
    return e164


async def contacts_for(
    session: AsyncSession, enterprise_id: uuid.UUID, event_type: str
) -> list[ContactRead]:
    """The enterprise's contacts whose `events` patterns match `event_type` (for delivery)."""
    rows = await session.execute(
        select(NotificationContact)
        .where(NotificationContact.enterprise_id == enterprise_id)
        .order_by(NotificationContact.created_at, NotificationContact.id)
    )
    return matching(map(contact_read, rows.scalars()), event_type)


# Built once, executed with `ids` (one array: one prepared statement whatever the batch's size):
# the fan-out asks for every batch, and building it each time cost more than running it.
_CONTACTS_OF_ENTERPRISES = (
    select(NotificationContact)
    .where(NotificationContact.enterprise_id == any_(bindparam("ids", type_=ARRAY(Uuid))))
    .order_by(NotificationContact.created_at, NotificationContact.id)
)


async def contacts_of_enterprises(
    session: AsyncSession, enterprise_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[ContactRead]]:
    """Every contact of each enterprise, in `contacts_for`'s order, in one statement (for a
    batch of events to deliver); `matching` picks those of one event type."""
    found: dict[uuid.UUID, list[ContactRead]] = {e: [] for e in enterprise_ids}
    if not found:
        return found
    rows = await session.execute(_CONTACTS_OF_ENTERPRISES, {"ids": list(found)})
    for contact in rows.scalars():
        found[contact.enterprise_id].append(contact_read(contact))
    return found


def matching(contacts: Iterable[ContactRead], event_type: str) -> list[ContactRead]:
    """The contacts whose `events` patterns match `event_type`."""
    return [c for c in contacts if any(pattern_matches(p, event_type) for p in c.events)]


async def create_contact(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    enterprise_id: uuid.UUID,
    payload: ContactCreate,
) -> ContactRead:
    enterprise = await get_enterprise(session, caller, enterprise_id)
    now = clock.now()
    contact = NotificationContact(
        id=uuid.uuid4(),
        enterprise_id=enterprise.id,
        name=payload.name,
        email=str(payload.email),
        phone=payload.phone,
        phone_e164=_e164(payload.phone, enterprise.country) if payload.phone else None,
        language=(payload.language or Language(default_language(enterprise.country))).value,
        events=list(dict.fromkeys(payload.events)),
        version=1,
        created_at=now,
        updated_at=now,
    )
    return await commit_new_row(session, claim, contact, contact_read)


async def list_contacts(
    session: AsyncSession, caller: Caller, enterprise_id: uuid.UUID, params: PageParams
) -> Page[ContactRead]:
    items, cursor = await page_of_enterprise(
        session, caller, enterprise_id, NotificationContact, params
    )
    return Page(items=[contact_read(c) for c in items], next_cursor=cursor)


async def _contact(
    session: AsyncSession,
    caller: Caller,
    enterprise_id: uuid.UUID,
    contact_id: uuid.UUID,
    *,
    lock: bool = False,
) -> NotificationContact:
    return await find_visible(
        session,
        caller,
        NotificationContact,
        contact_id,
        what="contact",
        lock=lock,
        within=enterprise_id,
    )


async def get_contact(
    session: AsyncSession, caller: Caller, enterprise_id: uuid.UUID, contact_id: uuid.UUID
) -> ContactRead:
    return contact_read(await _contact(session, caller, enterprise_id, contact_id))


async def update_contact(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    enterprise_id: uuid.UUID,
    contact_id: uuid.UUID,
    payload: ContactUpdate,
    if_match: str | None,
) -> ContactRead:
    contact = await _contact(session, caller, enterprise_id, contact_id, lock=True)
    check_if_match(if_match, contact.version)
    changes = payload.model_dump(exclude_unset=True)
    for field in ("name", "email", "language", "events"):
        if field in changes and changes[field] is None:
            raise field_error(field, "may not be null")
    if "phone" in changes:
        if payload.phone is None:
            contact.phone, contact.phone_e164 = None, None
        else:
            country = (
                await session.execute(
                    select(Enterprise.country).where(Enterprise.id == contact.enterprise_id)
                )
            ).scalar_one()
            contact.phone_e164 = _e164(payload.phone, country)
            contact.phone = payload.phone
    if payload.name is not None:
        contact.name = payload.name
    if payload.email is not None:
        contact.email = str(payload.email)
    if payload.language is not None:
        contact.language = payload.language.value
    if payload.events is not None:
        contact.events = list(dict.fromkeys(payload.events))
    if changes:
        new_version(contact, clock.now())
    await session.flush()
    answer = contact_read(contact)
    await session.commit()
    return answer


async def delete_contact(
    session: AsyncSession, caller: Caller, enterprise_id: uuid.UUID, contact_id: uuid.UUID
) -> None:
    contact = await _contact(session, caller, enterprise_id, contact_id)
    await session.execute(
        delete(NotificationContact).where(
            NotificationContact.enterprise_id == contact.enterprise_id,
            NotificationContact.id == contact.id,
        )
    )
    await session.commit()
