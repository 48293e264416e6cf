"""The addresses Carrier Desk answers for: declared by administrators, the handbook's billing
mailboxes seeded."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import NotFound, field_error
from app.core.handbook import handbook
from app.core.orm_pages import fetch_page
from app.core.pagination import Page, PageParams
from app.core.reads import read_of
from app.core.tenancy import Caller
from app.models import Mailbox
from app.services.inbound_mail.rules import Purpose
from app.services.inbound_mail.schemas import MailboxRead, MailboxWrite

SEEDED_BY = "seed"


def mailbox_address(address: str) -> str:
    """An address as mailboxes are keyed: trimmed, lower-case; a 422 unless it is one."""
    text = address.strip().lower()
    local, at, domain = text.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain
        or len(text) > 254
        or any(c.isspace() for c in text)
    ):
        raise field_error("address", f"{address!r} is not a mail address")
    return text


async def find_mailbox(session: AsyncSession, address: str) -> Mailbox | None:
    return await session.get(Mailbox, address.strip().lower())


async def put_mailbox(
    session: AsyncSession, caller: Caller, clock: Clock, address: str, payload: MailboxWrite
) -> MailboxRead:
    """Declare (or redeclare) a mailbox: what mail to it becomes."""
    key = mailbox_address(address)
    now = clock.now()
    row = await session.get(Mailbox, key, with_for_update=True)
    if row is None:
        row = Mailbox(address=key, created_at=now, version=0)
        session.add(row)
    row.purpose = payload.purpose.value
    row.country = payload.country
    row.default_severity = payload.default_severity.value if payload.default_severity else None
    row.updated_at = now
    row.updated_by = caller.actor
    row.version = (row.version or 0) + 1
    await session.flush()
    answer = read_of(MailboxRead, row)
    await session.commit()
    return answer


async def list_mailboxes(session: AsyncSession, params: PageParams) -> Page[MailboxRead]:
    rows, cursor = await fetch_page(
        session, select(Mailbox), params, Mailbox.updated_at, Mailbox.address
    )
    return Page(items=[read_of(MailboxRead, r) for r in rows], next_cursor=cursor)


async def delete_mailbox(session: AsyncSession, address: str) -> None:
    """Stop answering for an address; mail already received stays."""
    key = address.strip().lower()
    deleted = await session.execute(delete(Mailbox).where(Mailbox.address == key))
    if getattr(deleted, "rowcount", 0) == 0:
        raise NotFound(f"mailbox {address} not found")
    await session.commit()


async def seed_billing_mailboxes(session: AsyncSession, clock: Clock) -> None:
    """The handbook's PO/HES/MIGO mailboxes, as billing mailboxes of the first country each
    serves (the request takes the sender's enterprise's country). Never overwrites a mailbox
    an administrator declared or changed."""
    now = clock.now()
    rows = [
        {
            "address": address.lower(),
            "purpose": Purpose.billing.value,
            "country": countries[0],
            "default_severity": None,
            "updated_by": SEEDED_BY,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for address, countries in handbook()["billing_mailboxes"].items()
    ]
    if rows:
        await session.execute(insert(Mailbox).values(rows).on_conflict_do_nothing())
