"""TMF621 Trouble Ticket v4 over Carrier Desk tickets: the mapping tables, as pure rules.

Status (TMF `status` from Carrier Desk's stage and status):

| Carrier Desk                                   | TMF621          |
|------------------------------------------------|-----------------|
| reception, registration                        | `acknowledged`  |
| diagnosis, dispatch, field_repair, verification| `inProgress`    |
| waiting for the customer (any stage)           | `pending`       |
| stability, closure                             | `resolved`      |
| closed                                         | `closed`        |
| cancelled                                      | `cancelled`     |

Severity: TMF's `severity` is free text. It is kept as the carrier sent it and
mapped (case and spaces ignored) onto Carrier Desk's severity:

| TMF `severity` given                                           | Carrier Desk |
|----------------------------------------------------------------|--------------|
| critical, urgent, blocker, emergency, 1, sev1, p1, severity 1  | `critical`   |
| major, high, serious, 2, sev2, p2, severity 2                  | `major`      |
| minor, medium, moderate, low, normal, warning, 3, 4, 5, sev3-5, p3-p5, severity 3-5 | `minor` |

Any other value is refused (400) rather than guessed. A ticket opened
elsewhere shows Carrier Desk's severity (`critical`/`major`/`minor`) and
`ticketType` `incident`.

Events to hub listeners, one per Carrier Desk event:

- `ticket.created` → `TroubleTicketCreateEvent`;
- a stage change, hold, resume, close or cancel that changes the TMF status:
  `TroubleTicketResolvedEvent` when the new status is `resolved`, otherwise
  `TroubleTicketStatusChangeEvent`;
- `ticket.updated`, `ticket.escalated`, a customer-visible `ticket.note_added`
  → `TroubleTicketAttributeValueChangeEvent`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class TmfStatus(StrEnum):
    """TMF621's `TroubleTicketStatusType`."""

    acknowledged = "acknowledged"
    rejected = "rejected"
    pending = "pending"
    held = "held"
    inProgress = "inProgress"
    cancelled = "cancelled"
    closed = "closed"
    resolved = "resolved"


TMF_STATUSES = tuple(status.value for status in TmfStatus)

_STAGE_STATUS = {
    "reception": "acknowledged",
    "registration": "acknowledged",
    "diagnosis": "inProgress",
    "dispatch": "inProgress",
    "field_repair": "inProgress",
    "verification": "inProgress",
    "stability": "resolved",
    "closure": "resolved",
    "closed": "closed",
    "cancelled": "cancelled",
}


def tmf_status(stage: str, status: str) -> str:
    if status == "waiting_for_customer":
        return "pending"
    if status in ("closed", "cancelled"):
        return status
    return _STAGE_STATUS.get(stage, "inProgress")


def stages_of_status(tmf: str) -> tuple[list[str], bool | None]:
    """The stages a TMF status covers, and whether it requires waiting (True), not (False)."""
    if tmf == "pending":
        return [], True
    stages = [stage for stage, mapped in _STAGE_STATUS.items() if mapped == tmf]
    return stages, (False if stages and tmf not in ("closed", "cancelled") else None)


_SEVERITY_WORDS = {
    "critical": ("critical", "urgent", "blocker", "emergency", "1", "sev1", "p1", "severity1"),
    "major": ("major", "high", "serious", "2", "sev2", "p2", "severity2"),
    "minor": (
        "minor",
        "medium",
        "moderate",
        "low",
        "normal",
        "warning",
        "3",
        "4",
        "5",
        "sev3",
        "sev4",
        "sev5",
        "p3",
        "p4",
        "p5",
        "severity3",
        "severity4",
        "severity5",
    ),
}

_SEVERITY = {word: severity for severity, words in _SEVERITY_WORDS.items() for word in words}


def carrier_desk_severity(tmf_severity: str) -> str | None:
    """Carrier Desk's severity for a TMF severity, or None when the table does not know it."""
    key = "".join(tmf_severity.lower().split()).replace("-", "").replace("_", "")
    return _SEVERITY.get(key)


KNOWN_SEVERITIES = sorted(_SEVERITY)

CREATE_EVENT = "TroubleTicketCreateEvent"

STATUS_EVENT = "TroubleTicketStatusChangeEvent"

RESOLVED_EVENT = "TroubleTicketResolvedEvent"

ATTRIBUTE_EVENT = "TroubleTicketAttributeValueChangeEvent"

TMF_EVENT_TYPES = (CREATE_EVENT, STATUS_EVENT, RESOLVED_EVENT, ATTRIBUTE_EVENT)


def tmf_event_type(event_type: str, data: dict[str, Any]) -> str | None:
    """The TMF event a Carrier Desk ticket event becomes, or None when it becomes none."""
    if event_type == "ticket.created":
        return CREATE_EVENT
    if event_type in ("ticket.updated", "ticket.escalated"):
        return ATTRIBUTE_EVENT
    if event_type in ("ticket.note_added", "ticket.attachment_added"):
        return ATTRIBUTE_EVENT if data.get("visibility") != "internal" else None
    before: str | None
    after: str | None
    if event_type in ("ticket.stage_changed", "ticket.closed", "ticket.cancelled"):
        before = _STAGE_STATUS.get(str(data.get("from")))
        after = _STAGE_STATUS.get(str(data.get("to")))
    elif event_type == "ticket.held":
        before, after = _STAGE_STATUS.get(str(data.get("stage"))), "pending"
    elif event_type == "ticket.resumed":
        before, after = "pending", _STAGE_STATUS.get(str(data.get("stage")))
    else:
        return None
    if after is None or before == after:
        return None
    return RESOLVED_EVENT if after == "resolved" else STATUS_EVENT


def hub_event_types(query: str | None) -> list[str]:
    """`eventType=A,B` (or `eventType=A&eventType=B`) → [A, B]; empty: every event."""
    if not query:
        return []
    wanted: list[str] = []
    for part in query.replace("&", ";").split(";"):
        name, _, value = part.partition("=")
        if name.strip() == "eventType":
            wanted.extend(v.strip() for v in value.split(",") if v.strip())
    return wanted


def select_fields(item: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """TMF `fields`: exactly the named first-level attributes (TM Forum's conformance kit
    checks that `fields=description` answers `description` alone; ask for `id` to get it)."""
    if not fields:
        return item
    wanted = {f.strip() for f in fields.split(",") if f.strip()}
    return {k: v for k, v in item.items() if k in wanted}
