"""TMF621 hub listeners' event envelopes, built from the same outbox events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.services.tmf621.rules import tmf_event_type

if TYPE_CHECKING:
    from app.services.delivery.fanout import OutboxEvent


async def tmf_deliveries(
    session: AsyncSession, events: Sequence[OutboxEvent], hubs: Sequence[Any]
) -> list[tuple[uuid.UUID, OutboxEvent, dict[str, Any]]]:
    """(hub id, event, TMF envelope) for every hub listening to a ticket event.

    The envelope carries the ticket as it stands when the event is fanned out.
    """
    from app.services.tmf621.reads import represent_tickets

    if not hubs:
        return []
    wanted: list[tuple[OutboxEvent, str, list[Any]]] = []
    for event in events:
        if event.subject_type != "ticket" or event.customer is None:
            continue  # hubs are the customer's: an event for staff only is none of theirs
        tmf_type = tmf_event_type(event.type, event.customer)
        if tmf_type is None:
            continue
        listeners = [
            hub
            for hub in hubs
            if hub.enterprise_id == event.enterprise_id
            and (not hub.events or tmf_type in hub.events)
        ]
        if listeners:
            wanted.append((event, tmf_type, listeners))
    if not wanted:
        return []
    tickets = await represent_tickets(session, list({e.subject_id for e, _, _ in wanted}))
    out: list[tuple[uuid.UUID, OutboxEvent, dict[str, Any]]] = []
    for event, tmf_type, listeners in wanted:
        ticket = tickets.get(event.subject_id)
        if ticket is None:
            continue
        at = event.at.isoformat().replace("+00:00", "Z")
        envelope = {
            "eventId": str(event.id),
            "eventTime": at,
            "eventType": tmf_type,
            "timeOcurred": at,
            "domain": "troubleTicket",
            "title": f"{tmf_type} {ticket['id']}",
            "href": ticket["href"],
            "id": str(event.id),
            "event": {"troubleTicket": ticket},
            "@type": tmf_type,
        }
        for hub in listeners:
            out.append((hub.id, event, envelope))
    return out
