"""Sonata hub notifications, built from the same outbox events as webhooks and TMF621 hubs.

Each event is told to a hub as the spec's notification: `{eventId, eventTime, eventType,
event: {id, href}}` posted to the hub's callback + `LISTENER_PATH` + the event type. It names
the ticket or incident; the buyer reads it (in its own scope) for the rest. Only events a
customer may see are told (`OutboxEvent.customer`), and only to hubs of the event's enterprise.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from app.services.sonata.reads import href
from app.services.sonata.rules import LISTENER_PATH, SELLER_ID, hub_event_types

if TYPE_CHECKING:
    from app.services.delivery.fanout import OutboxEvent

_RESOURCE = {"ticket": "troubleTicket", "incident": "incident"}

# What a buyer's patch records: told to other listeners as an attribute change, never back to
# the buyer's client that made it.
_BUYER_EDITS = frozenset({"ticket.updated", "ticket.note_added"})


def sonata_deliveries(
    events: Sequence[OutboxEvent], hubs: Sequence[Any]
) -> list[tuple[uuid.UUID, OutboxEvent, dict[str, Any], str]]:
    """(hub id, event, notification, listener path) for every hub listening to an event.

    A hub hears an event once: as the first of its Sonata types it subscribed to. A buyer's
    own edits through its patch are not told back to it: the spec's attribute change is the
    seller's (an edit whose actor registered the hub is the buyer's own)."""
    out: list[tuple[uuid.UUID, OutboxEvent, dict[str, Any], str]] = []
    for event in events:
        resource = _RESOURCE.get(event.subject_type)
        if resource is None or event.customer is None:
            continue
        types = hub_event_types(event.type, event.customer)
        for hub in hubs:
            if hub.enterprise_id != event.enterprise_id:
                continue
            if event.type in _BUYER_EDITS and event.actor == hub.created_by:
                continue
            wanted = [t for t in types if not hub.events or t.value in hub.events]
            for sonata_type in wanted[:1]:
                notification = {
                    "eventId": f"{event.id}-{sonata_type.value}",
                    "eventTime": event.at.isoformat().replace("+00:00", "Z"),
                    "eventType": sonata_type.value,
                    "event": {
                        "id": str(event.subject_id),
                        "href": href(resource, event.subject_id),
                        "buyerId": str(event.enterprise_id),
                        "sellerId": SELLER_ID,
                    },
                }
                out.append((hub.id, event, notification, LISTENER_PATH + sonata_type.value))
    return out
