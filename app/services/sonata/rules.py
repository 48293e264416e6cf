"""MEF LSO Sonata Trouble Ticket and Incident Management (MEF 124, v4) over Carrier Desk's
tickets and network incidents: every mapping table, as data. `docs/SONATA.md` prints them.

Pure: no I/O, and no other feature's modules: Carrier Desk's stages, severities and statuses
are named here by their values (a test holds the tables to the enums they map).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

BASE = "/mefApi/sonata/troubleTicket/v4"

# What the spec appends to a hub's `callback`, then the event type (EventSubscriptionInput).
LISTENER_PATH = "/mefApi/sonata/troubleTicketNotification/v2/listener/"

# Carrier Desk is the only seller this face answers for: `sellerId`, when a buyer sends it,
# must name it (the spec: "only when the responding entity represents more than one Seller").
SELLER_ID = "carrierdesk"


class SonataStatus(StrEnum):
    acknowledged = "acknowledged"
    assessingCancellation = "assessingCancellation"
    cancelled = "cancelled"
    closed = "closed"
    inProgress = "inProgress"
    pending = "pending"
    reopened = "reopened"
    resolved = "resolved"


class SonataSeverity(StrEnum):
    minor = "minor"
    moderate = "moderate"
    significant = "significant"
    extensive = "extensive"


class SonataPriority(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class SonataTicketType(StrEnum):
    assistance = "assistance"
    information = "information"
    installation = "installation"
    maintenance = "maintenance"


class ObservedImpact(StrEnum):
    degraded = "degraded"
    intermittent = "intermittent"
    down = "down"


class IncidentStatusType(StrEnum):
    closed = "closed"
    created = "created"
    inProgress = "inProgress"


class SonataEventType(StrEnum):
    ticket_attribute_change = "troubleTicketAttributeValueChangeEvent"
    ticket_information_required = "troubleTicketInformationRequiredEvent"
    ticket_resolved = "troubleTicketResolvedEvent"
    ticket_status_change = "troubleTicketStatusChangeEvent"
    incident_create = "incidentCreateEvent"
    incident_attribute_change = "incidentAttributeValueChangeEvent"
    incident_status_change = "incidentStatusChangeEvent"


# --- status: Carrier Desk's stage (and waiting for the customer) -> Sonata's status
STATUS_OF_STAGE: dict[str, SonataStatus] = {
    "reception": SonataStatus.acknowledged,
    "registration": SonataStatus.acknowledged,
    "diagnosis": SonataStatus.inProgress,
    "dispatch": SonataStatus.inProgress,
    "field_repair": SonataStatus.inProgress,
    # From verification on, service is restored and the buyer is asked to confirm it.
    "verification": SonataStatus.resolved,
    "stability": SonataStatus.resolved,
    "closure": SonataStatus.resolved,
    "closed": SonataStatus.closed,
    "cancelled": SonataStatus.cancelled,
}
WAITING_STATUS = SonataStatus.pending  # waiting for the customer, in any open stage
REOPENED_STATUS = SonataStatus.reopened  # the buyer reopened it, while it stays in that stage

# --- severity: the buyer's Sonata severity -> the ticket's own (the SLA follows it)
SEVERITY_OF: dict[SonataSeverity, str] = {
    SonataSeverity.extensive: "critical",
    SonataSeverity.significant: "major",
    SonataSeverity.moderate: "minor",
    SonataSeverity.minor: "minor",
}
# The seller's own assessment, shown as `sellerSeverity` / `sellerPriority` (and as the buyer's
# `severity` / `priority` for a ticket opened elsewhere).
SELLER_SEVERITY: dict[str, SonataSeverity] = {
    "critical": SonataSeverity.extensive,
    "major": SonataSeverity.significant,
    "minor": SonataSeverity.minor,
}
SELLER_PRIORITY: dict[str, SonataPriority] = {
    "critical": SonataPriority.critical,
    "major": SonataPriority.high,
    "minor": SonataPriority.medium,
}

# --- ticket type and observed impact: kept as the buyer sent them; for a ticket opened
# elsewhere, these defaults.
DEFAULT_TICKET_TYPE = SonataTicketType.assistance
IMPACT_OF_SEVERITY: dict[str, ObservedImpact] = {
    "critical": ObservedImpact.down,
    "major": ObservedImpact.degraded,
    "minor": ObservedImpact.intermittent,
}

# --- incidents: Carrier Desk's network incident -> Sonata's Incident
INCIDENT_STATUS: dict[str, IncidentStatusType] = {
    "open": IncidentStatusType.inProgress,  # the TSC works it from its declaration
    "resolved": IncidentStatusType.closed,
}
INCIDENT_IMPACT: dict[str, ObservedImpact] = {
    "down": ObservedImpact.down,
    "degraded": ObservedImpact.degraded,
    "intermittent": ObservedImpact.intermittent,
}
INCIDENT_TYPE = "repair"  # a network incident is an outage being repaired

# --- notes: a ticket's customer-visible notes; `source` is `seller` when staff wrote it.
# Internal notes are staff-only events: never on this face.
NOTE_SOURCE_BUYER = "buyer"
NOTE_SOURCE_SELLER = "seller"

# --- contacts: the first `relatedContactInformation` becomes the ticket's contact
CONTACT_FIELDS: dict[str, str] = {"name": "name", "emailAddress": "email", "number": "phone"}

# --- the buyer's tasks: which Sonata statuses each may start from
TASK_FROM: dict[str, frozenset[SonataStatus]] = {
    "cancel": frozenset(
        {
            SonataStatus.acknowledged,
            SonataStatus.inProgress,
            SonataStatus.pending,
            SonataStatus.reopened,
        }
    ),
    "close": frozenset({SonataStatus.resolved}),
    "reopen": frozenset({SonataStatus.resolved}),
}


def sonata_status(stage: str, status: str, reopened_stage: str | None = None) -> SonataStatus:
    if status == "waiting_for_customer":
        return WAITING_STATUS
    mapped = STATUS_OF_STAGE[stage]
    if mapped is SonataStatus.resolved and reopened_stage == stage:
        return REOPENED_STATUS
    return mapped


def stages_of(status: SonataStatus) -> list[str]:
    """The stages a Sonata status filter selects (waiting and reopened are told apart by the
    caller: they are a ticket status and a buyer's mark, not stages)."""
    if status is SonataStatus.reopened:
        return [s for s, m in STATUS_OF_STAGE.items() if m is SonataStatus.resolved]
    return [s for s, m in STATUS_OF_STAGE.items() if m is status]


def task_allowed(task: str, current: SonataStatus) -> bool:
    return current in TASK_FROM[task]


def status_after(payload_type: str, data: dict[str, Any]) -> SonataStatus | None:
    """The Sonata status a ticket event leaves the ticket in (None: not a status event)."""
    if payload_type == "ticket.held":
        return WAITING_STATUS
    if payload_type in ("ticket.stage_changed", "ticket.closed", "ticket.cancelled"):
        return STATUS_OF_STAGE[data["to"]]
    if payload_type == "ticket.resumed":
        return STATUS_OF_STAGE[data["stage"]]
    if payload_type == "ticket.created":
        return STATUS_OF_STAGE[data["stage"]]
    return None


def status_before(payload_type: str, data: dict[str, Any]) -> SonataStatus | None:
    if payload_type in ("ticket.stage_changed", "ticket.closed", "ticket.cancelled"):
        return STATUS_OF_STAGE[data["from"]]
    if payload_type == "ticket.resumed":
        return WAITING_STATUS
    return None


def hub_event_types(event_type: str, data: dict[str, Any]) -> list[SonataEventType]:
    """The Sonata events one Carrier Desk event (in the customer's view) is told to hubs as.

    In order of preference: a hub hears one notification per event, the first of these it
    subscribed to. A move that changes the Sonata status is a status change; into `resolved`
    it is the resolved event first (a hub not listening to that hears the status change); a
    hold is the information-required event; a seller's edit or public note is an attribute
    change. The buyer's own ticket creation is none (it has the answer)."""
    if event_type.startswith("incident."):
        return {
            "incident.declared": [SonataEventType.incident_create],
            "incident.updated": [SonataEventType.incident_attribute_change],
            "incident.resolved": [SonataEventType.incident_status_change],
        }.get(event_type, [])
    if event_type == "ticket.held":
        return [SonataEventType.ticket_information_required]
    if event_type in ("ticket.updated", "ticket.note_added", "ticket.escalated"):
        return [SonataEventType.ticket_attribute_change]
    before, after = status_before(event_type, data), status_after(event_type, data)
    if before is None or after is None or before is after:
        return []
    if after is SonataStatus.resolved:
        return [SonataEventType.ticket_resolved, SonataEventType.ticket_status_change]
    return [SonataEventType.ticket_status_change]


def subscribed_types(query: str | None) -> list[str]:
    """`eventType=a,b` (spaces allowed around `=`) -> [a, b]; empty: every type.
    Raises ValueError naming an unknown type."""
    if not query or not query.strip():
        return []
    name, _, values = query.partition("=")
    if name.strip() != "eventType" or not values.strip():
        raise ValueError("query: eventType=<type>[,<type>…]")
    wanted = [v.strip() for v in values.split(",") if v.strip()]
    known = {t.value for t in SonataEventType}
    for value in wanted:
        if value not in known:
            raise ValueError(f"unknown eventType {value}; one of {', '.join(sorted(known))}")
    return wanted
