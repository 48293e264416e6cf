"""The event types still written untyped, by features that have not yet moved to payloads.

Transitional: orders, billing, changes and maintenance record these through the
legacy untyped form of `record_event`. Until their `events` modules register a
payload model per type, subscriptions may still name them and every outward
channel passes their bodies as written. Delete this module, and the legacy form,
when the last of them is registered.
"""

from __future__ import annotations

UNTYPED_EVENT_TYPES = frozenset(
    {
        "order.created",
        "order.touchpoint_recorded",
        "order.status_changed",
        "order.updated",
        "billing.received",
        "billing.acknowledged",
        "billing.in_review",
        "billing.resolved",
        "billing.rejected",
        "billing.credit_issued",
        "change.received",
        "change.referred",
        "change.analysed",
        "change.scheduled",
        "change.completed",
        "change.rejected",
        "change.cancelled",
        "maintenance.announced",
        "maintenance.updated",
        "maintenance.cancelled",
        "maintenance.acknowledged",
        "maintenance.completed",
    }
)
