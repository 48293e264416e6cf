"""Every event type Carrier Desk records, and the patterns contacts and webhooks subscribe with.

Each feature adds its types here, so a subscription naming no event is refused
(a typo in a notification pattern would otherwise silently mail no one).
"""

from __future__ import annotations

from fnmatch import fnmatchcase

TICKET_EVENTS = frozenset(
    {
        "ticket.created",
        "ticket.updated",
        "ticket.stage_changed",
        "ticket.held",
        "ticket.resumed",
        "ticket.note_added",
        "ticket.escalated",
        "ticket.closed",
        "ticket.cancelled",
        "sla.warning",
        "sla.breached",
    }
)

# `order.updated` and `maintenance.completed` were never recorded: dropped (see the features'
# events.py).
ORDER_EVENTS = frozenset({"order.created", "order.touchpoint_recorded", "order.status_changed"})

BILLING_EVENTS = frozenset(
    {
        "billing.received",
        "billing.acknowledged",
        "billing.in_review",
        "billing.resolved",
        "billing.rejected",
        "billing.credit_issued",
    }
)

CHANGE_EVENTS = frozenset(
    {
        "change.received",
        "change.referred",
        "change.analysed",
        "change.scheduled",
        "change.completed",
        "change.rejected",
        "change.cancelled",
    }
)

MAINTENANCE_EVENTS = frozenset(
    {
        "maintenance.announced",
        "maintenance.updated",
        "maintenance.cancelled",
        "maintenance.acknowledged",
    }
)

ALL_EVENT_TYPES = TICKET_EVENTS | ORDER_EVENTS | BILLING_EVENTS | CHANGE_EVENTS | MAINTENANCE_EVENTS


def pattern_matches(pattern: str, event_type: str) -> bool:
    """`ticket.*` matches `ticket.created`; `*` matches everything; otherwise exact."""
    return fnmatchcase(event_type, pattern)


def names_an_event(pattern: str) -> bool:
    return any(pattern_matches(pattern, t) for t in ALL_EVENT_TYPES)
