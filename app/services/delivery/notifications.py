"""Which mails an event writes: recipients, language, rendered text."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from jinja2 import TemplateError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.countries import default_language
from app.core.database import driver_connection
from app.core.event_registry import EventPayload, parse_payload
from app.core.handbook import handbook
from app.models import Enterprise, NotificationContact, WebhookEndpoint
from app.models.base import NO_TENANT
from app.services.billing.events import BillingSnapshot
from app.services.billing.rules import request_number
from app.services.delivery.mail_lookups import MailLookups, mail_lookups
from app.services.delivery.mail_templates import render
from app.services.delivery.rules import (
    IMPACT_NAMES,
    MAINTENANCE_STATES,
    SEVERITY_NAMES,
    STAGE_NAMES,
    TOUCHPOINT_PT,
    event_mails,
    language_or_default,
    local_time,
    word,
)
from app.services.incidents.events import IncidentEvent, IncidentNotice
from app.services.maintenance.events import MaintenanceNotice
from app.services.orders.events import OrderTouchpointRecorded
from app.services.tickets.events import (
    EscalationContacts,
    TicketEscalated,
    TicketEvent,
    TicketHeld,
    TicketMove,
    TicketResumed,
)

logger = logging.getLogger("carrierdesk.notifications")

if TYPE_CHECKING:
    from app.services.delivery.fanout import OutboxEvent


async def mails_for_events(
    session: AsyncSession, events: Sequence[OutboxEvent]
) -> list[dict[str, Any]]:
    """The mail rows the events write: one per recipient, in the recipient's language.

    The recipients are the customer's: a mail tells only what the customer's view of the
    event tells, and an event for staff only writes none. What the batch's mails read
    (contacts, tickets, calendars, TSC lines) is read once for the batch (`mail_lookups`)."""
    mailing = [
        event
        for event in events
        if event.enterprise_id is not None
        and event.customer is not None
        and event_mails(event.type, event.customer)
    ]
    if not mailing:
        return []
    looks = await mail_lookups(session, mailing)
    rows: list[dict[str, Any]] = []
    for event in mailing:
        assert event.enterprise_id is not None
        recipients = looks.recipients(event)
        if not recipients:
            continue
        planned = await _context(session, event, looks)
        if planned is None:
            logger.warning("event %s: its %s is gone; no mail", event.id, event.subject_type)
            continue
        context, template = planned
        for address, language in recipients.items():
            try:
                subject, body = render(template, language, _localised(context, language))
            except TemplateError:
                # One event's odd data must never hold up the outbox behind it.
                logger.exception("event %s: template %s failed", event.id, template)
                continue
            rows.append(_mail_row(event.enterprise_id, event.id, address, language, subject, body))
    return rows


async def _context(
    session: AsyncSession, event: OutboxEvent, looks: MailLookups
) -> tuple[dict[str, Any], str] | None:
    # The mail is the customer's: its words come from the customer's view of the event,
    # which the fan-out holds already (`customer_view`, validated once per event).
    assert event.customer is not None
    payload = parse_payload(event.type, event.customer)
    if payload is None:
        return None
    if isinstance(payload, TicketEvent):
        return await _ticket_context(event, payload, looks)
    # The fields read below are all in the customer's view of their events.
    if isinstance(payload, MaintenanceNotice):
        country = (
            await session.execute(
                select(Enterprise.country).where(Enterprise.id == event.enterprise_id)
            )
        ).scalar_one()
        zone = await looks.zone(country)
        return {
            "gcr_number": payload.gcr_number,
            "emergency": payload.emergency,
            "event_type": event.type,
            "start_local": local_time(payload.start, zone),
            "end_local": local_time(payload.end, zone),
            "impact_key": payload.expected_impact,
            "reason": payload.reason,
            "services": ", ".join(payload.service_codes),
            "lines": await looks.tsc_lines(country, None),
        }, "maintenance"
    if isinstance(payload, IncidentNotice):
        # Each enterprise's own services and tickets: the event was written for it alone.
        return {
            "incident_number": payload.number,
            "summary": payload.summary,
            "resolved": event.type == IncidentEvent.resolved,
            "resolution": getattr(payload, "resolution", ""),
            "services": ", ".join(payload.service_codes),
            "tickets": ", ".join(payload.ticket_numbers),
        }, "incident"
    if isinstance(payload, OrderTouchpointRecorded):
        return {
            "order_number": payload.number,
            "touchpoint_key": payload.key,
            "touchpoint_titles": _touchpoint_titles(payload.key),
            "note": payload.note,
            "expected_delivery_date": payload.expected_delivery_date or "",
        }, "order_touchpoint"
    if isinstance(payload, BillingSnapshot):
        return {
            "request_number": request_number(event.subject_id),
            "subject": payload.subject,
            "route_to": payload.route_to or "",
        }, "billing_acknowledged"
    return None


async def _ticket_context(
    event: OutboxEvent, payload: EventPayload, looks: MailLookups
) -> tuple[dict[str, Any], str] | None:
    """A ticket mail's words: the event's typed fields, and the ticket as it stands."""
    ticket = looks.ticket(event)
    if ticket is None:
        return None
    zone = await looks.zone(ticket.country)
    site = ticket.site or {}
    stage, due, note = _moment(payload)
    context: dict[str, Any] = {
        "number": ticket.number,
        "stage": stage or ticket.stage,
        "severity": ticket.severity,
        "summary": ticket.summary,
        "external_id": ticket.external_id,
        "service_code": ticket.code or "—",  # not named yet: the TSC names it at registration
        "site": ", ".join(str(site[k]) for k in ("address", "city", "country") if site.get(k)),
        "due_local": local_time(due, zone),
        "note": note,
        "lines": await looks.tsc_lines(ticket.country, ticket.product_line),
    }
    if isinstance(payload, TicketEscalated):
        context |= {
            "level": payload.level,
            "reason": payload.reason,
            "contacts": _escalation_lines(payload.escalation),
        }
        return context, "ticket_escalated"
    if event.type == "ticket.closed":
        context["stage"] = "closed"
    return context, "ticket_stage"


def _moment(payload: EventPayload) -> tuple[str | None, datetime | None, str]:
    """The stage a ticket event speaks of, the due time it names, and its note."""
    match payload:
        case TicketMove():
            return payload.to, payload.due_at, payload.note or ""
        case TicketResumed():
            return payload.stage, payload.due_at, payload.note or ""
        case TicketEscalated() | TicketHeld():
            return payload.stage, None, ""
    return None, None, ""


def _localised(context: dict[str, Any], language: str) -> dict[str, Any]:
    out = dict(context)
    if "stage" in context:
        out["stage_name"] = word(STAGE_NAMES, language, context["stage"])
        out["severity_name"] = word(SEVERITY_NAMES, language, context.get("severity"))
    if "gcr_number" in context:
        out["state_name"] = MAINTENANCE_STATES[language_or_default(language)].get(
            context["event_type"], ""
        )
        out["impact"] = word(IMPACT_NAMES, language, context.get("impact_key"))
    if "touchpoint_titles" in context:
        titles = context["touchpoint_titles"]
        out["touchpoint"] = (
            titles.get(language_or_default(language))
            or titles.get("en")
            or (context["touchpoint_key"].replace("_", " "))
        )
    return out


def _touchpoint_titles(key: str) -> dict[str, str]:
    """The handbook's title of an order touchpoint (en, es), and ours in Portuguese."""
    for row in handbook().get("order_touchpoints", []):
        if row.get("key") == key:
            titles = {lang: str(row[lang]) for lang in ("en", "es", "pt") if row.get(lang)}
            titles.setdefault("pt", TOUCHPOINT_PT.get(key, titles.get("en", "")))
            return titles
    return {}


def _escalation_lines(escalation: EscalationContacts) -> list[str]:
    role = escalation.role.replace("_", " ")
    lines = [f"{role}: {p.display}" if role else p.display for p in escalation.phones]
    if escalation.after_hours is not None and escalation.after_hours.display:
        lines.append(f"after hours: {escalation.after_hours.display}")
    return lines


async def endpoint_disabled_mails(
    session: AsyncSession, endpoint_id: uuid.UUID, reason: str, now: datetime
) -> None:
    """Tell the endpoint's owner (or, without one, its enterprise's contacts) it was disabled."""
    endpoint = (
        await session.execute(
            select(
                WebhookEndpoint.url,
                WebhookEndpoint.owner_email,
                WebhookEndpoint.enterprise_id,
                Enterprise.country,
            )
            .join(Enterprise, Enterprise.id == WebhookEndpoint.enterprise_id)
            .where(WebhookEndpoint.id == endpoint_id)
        )
    ).one()
    recipients: list[tuple[str, str]] = []
    if endpoint.owner_email:
        recipients.append((endpoint.owner_email, default_language(endpoint.country)))
    else:
        recipients = await _admin_recipients(session, endpoint.enterprise_id)
    rows = []
    for address, language in recipients:
        subject, body = render(
            "webhook_disabled",
            language,
            {"endpoint_id": str(endpoint_id), "url": endpoint.url, "reason": reason},
        )
        rows.append(_mail_row(endpoint.enterprise_id, None, address, language, subject, body))
    await insert_mails(session, rows, now)


# The mail rows of a batch in one prepared statement, whatever their number: one array per
# column (a multi-VALUES insert is compiled anew for every count, and costs more than the
# rows). Every row names its enterprise, so each routes to its shard on Citus.
_NEW_MAILS = """
INSERT INTO mail_messages (id, enterprise_id, event_id, recipient, language, subject, body,
                           status, attempts, next_attempt_at, created_at)
SELECT m.id, m.enterprise_id, m.event_id, m.recipient, m.language, m.subject, m.body,
       'pending', 0, $1, $1
FROM unnest($2::uuid[], $3::uuid[], $4::bigint[], $5::text[], $6::text[], $7::text[],
            $8::text[]) AS m(id, enterprise_id, event_id, recipient, language, subject, body)
"""

_MAIL_COLUMNS = ("id", "enterprise_id", "event_id", "recipient", "language", "subject", "body")


async def insert_mails(
    session: AsyncSession, rows: Sequence[dict[str, Any]], now: datetime
) -> None:
    """Write `_mail_row`s, pending from `now`, in the session's transaction."""
    if not rows:
        return
    driver = await driver_connection(session)
    columns = [[row[name] for row in rows] for name in _MAIL_COLUMNS]
    await driver.execute(_NEW_MAILS, now, *columns)


def _mail_row(
    enterprise_id: uuid.UUID | None,
    event_id: int | None,
    recipient: str,
    language: str,
    subject: str,
    body: str,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "enterprise_id": NO_TENANT if enterprise_id is None else enterprise_id,
        "event_id": event_id,
        "recipient": recipient,
        "language": language,
        "subject": subject[:300],
        "body": body,
    }


async def _admin_recipients(
    session: AsyncSession, enterprise_id: uuid.UUID
) -> list[tuple[str, str]]:
    """Without an owner address: the enterprise's contacts (every one, whatever their events)."""
    contacts = (
        await session.execute(
            select(NotificationContact.email, NotificationContact.language).where(
                NotificationContact.enterprise_id == enterprise_id
            )
        )
    ).all()
    return [(c.email, c.language) for c in contacts]
