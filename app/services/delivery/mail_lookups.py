"""What the mails of a batch of events read, read once for the batch.

Each enterprise's contacts in one statement, the tickets the events speak of (with their
service and their reporter's country) in one, each country's calendar and TSC lines once.
Nothing outlives the batch: it is read in the fan-out's own transaction, so a directory or
ticket change committed before it is seen, exactly as when each event read its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Uuid, and_, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.countries import default_language
from app.core.errors import Problem
from app.models import Enterprise, Service, Ticket
from app.services.calendars.service import calendars_for
from app.services.directory.contacts import contacts_of_enterprises, matching
from app.services.directory.schemas import ContactRead
from app.services.directory.service import support_lines

if TYPE_CHECKING:
    from app.services.delivery.fanout import OutboxEvent


@dataclass
class MailLookups:
    session: AsyncSession
    contacts: dict[uuid.UUID, list[ContactRead]]
    tickets: dict[uuid.UUID, Any]
    zones: dict[str, str] = field(default_factory=dict)
    lines: dict[tuple[str, str | None], list[str]] = field(default_factory=dict)
    # By outbox row: asked for while the calendars are read, and again for the mails.
    recipients_of_row: dict[int, dict[str, str]] = field(default_factory=dict)

    def recipients(self, event: OutboxEvent) -> dict[str, str]:
        """address -> language: matching notification contacts, and a ticket's reporting
        contact (`_mails_reporter`)."""
        assert event.enterprise_id is not None
        known = self.recipients_of_row.get(event.outbox_id)
        if known is not None:
            return known
        found: dict[str, str] = {}
        for contact in matching(self.contacts.get(event.enterprise_id, []), event.type):
            found.setdefault(str(contact.email).lower(), str(contact.language.value))
        if _mails_reporter(event):
            reporter = self.tickets.get(event.subject_id)
            email = (reporter.contact or {}).get("email") if reporter else None
            if email and reporter is not None:
                found.setdefault(str(email).lower(), default_language(reporter.enterprise_country))
        self.recipients_of_row[event.outbox_id] = found
        return found

    def ticket(self, event: OutboxEvent) -> Any:
        """The ticket an event speaks of, as it stands (None: it is gone)."""
        return self.tickets.get(event.subject_id)

    async def zone(self, country: str) -> str:
        """The country's time zone (its calendar's)."""
        if country not in self.zones:
            self.zones[country] = (await calendars_for(self.session, [country]))[country].timezone
        return self.zones[country]

    async def tsc_lines(self, country: str, product_line: str | None) -> list[str]:
        """The TSC lines to call, as the handbook prints them."""
        key = (country, product_line)
        if key not in self.lines:
            self.lines[key] = await _tsc_lines(self.session, country, product_line)
        return self.lines[key]


async def mail_lookups(session: AsyncSession, events: Sequence[OutboxEvent]) -> MailLookups:
    """The batch's contacts and tickets, read at once; the calendars of the countries of the
    tickets it mails."""
    enterprises = {e.enterprise_id for e in events if e.enterprise_id is not None}
    contacts = await contacts_of_enterprises(session, enterprises)

    def needs_ticket(e: OutboxEvent) -> bool:
        # Its reporter may be mailed, or a contact is, and the mail speaks of the ticket.
        return _mails_reporter(e) or bool(
            e.enterprise_id is not None and matching(contacts[e.enterprise_id], e.type)
        )

    wanted = [e for e in events if e.subject_type == "ticket" and needs_ticket(e)]
    looks = MailLookups(session, contacts=contacts, tickets=await _tickets_of(session, wanted))
    # The calendars of the tickets that will be mailed, at once (a mail names local times).
    countries = {
        looks.tickets[e.subject_id].country
        for e in events
        if e.subject_id in looks.tickets and looks.recipients(e)
    }
    if countries:
        calendars = await calendars_for(session, countries)
        looks.zones.update({c: calendar.timezone for c, calendar in calendars.items()})
    return looks


def _mails_reporter(event: OutboxEvent) -> bool:
    """A ticket's reporting contact is mailed too, but not of an escalation (that one goes to
    the enterprise's contacts only)."""
    return event.subject_type == "ticket" and event.type != "ticket.escalated"


async def _tickets_of(session: AsyncSession, events: Sequence[OutboxEvent]) -> dict[uuid.UUID, Any]:
    """The tickets of ticket events, by id: what a mail says of them, in one statement."""
    if not events:
        return {}
    enterprises = sorted({e.enterprise_id for e in events if e.enterprise_id is not None})
    ids = sorted({e.subject_id for e in events})
    rows = await session.execute(
        select(
            Ticket.id,
            Ticket.contact,
            Ticket.number,
            Ticket.stage,
            Ticket.severity,
            Ticket.summary,
            Ticket.site,
            Ticket.country,
            Ticket.external_id,
            Service.code,
            Service.product_line,
            Enterprise.country.label("enterprise_country"),
        )
        .join(Enterprise, Enterprise.id == Ticket.enterprise_id)
        .outerjoin(
            Service,
            and_(Service.enterprise_id == Ticket.enterprise_id, Service.id == Ticket.service_id),
        )
        # The enterprise first: each ticket is looked up on its own tenant's shard.
        # One array each: one prepared statement whatever the batch's size.
        .where(
            Ticket.enterprise_id == any_(bindparam("enterprises", type_=ARRAY(Uuid))),
            Ticket.id == any_(bindparam("ids", type_=ARRAY(Uuid))),
        ),
        {"enterprises": enterprises, "ids": ids},
    )
    return {row.id: row for row in rows}


async def _tsc_lines(session: AsyncSession, country: str, product_line: str | None) -> list[str]:
    try:
        lines = await support_lines(session, country, product_line)
    except Problem:
        try:
            lines = await support_lines(session, country, None)
        except Problem:
            return []
    out: list[str] = []
    for line in lines:
        numbers = ([line.toll_free] if line.toll_free else []) + list(line.local)
        text = " / ".join(n.display for n in numbers)
        if line.extension:
            text += f" ext. {line.extension}"
        if text and text not in out:
            out.append(text)
    return out
