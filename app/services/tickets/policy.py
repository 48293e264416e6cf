"""Who may do what with trouble tickets, SLA policies and the SLA report: the roles as data
(one place, so a permission table can be generated from it), and the typed dependencies
endpoints declare. The use cases ask the same table for what depends on the body (an
internal note, a backdated report)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import EVERYONE, EVERYONE_BUT_CARRIERS, require_roles
from app.core.roles import PROVIDER_ROLES, Role
from app.core.tenancy import Caller

ROLES: dict[str, frozenset[Role]] = {
    # Tickets are every caller's, a carrier's client included; tenancy decides which.
    "read": EVERYONE,
    "open": EVERYONE,
    "update": EVERYONE,
    "note": EVERYONE,
    "escalate": EVERYONE,
    # The customer's answer lets the clock run again; staff may record it for them.
    "resume": EVERYONE,
    # The Technical Service Center moves tickets and stops the clock.
    "work": PROVIDER_ROLES,
    "write_internal_notes": PROVIDER_ROLES,
    # Backdating a ticket to when a phoned report came in.
    "set_reported_at": PROVIDER_ROLES,
    # The SLA terms and the report read across tickets: not a carrier client's face.
    "read_sla": EVERYONE_BUT_CARRIERS,
    "set_sla_policy": frozenset({Role.provider_admin}),
}

TicketReader = Annotated[Caller, Depends(require_roles(*ROLES["read"], doing="read tickets"))]
TicketOpener = Annotated[Caller, Depends(require_roles(*ROLES["open"], doing="open tickets"))]
TicketEditor = Annotated[Caller, Depends(require_roles(*ROLES["update"], doing="change tickets"))]
TicketNoter = Annotated[Caller, Depends(require_roles(*ROLES["note"], doing="add notes"))]
TicketEscalator = Annotated[
    Caller, Depends(require_roles(*ROLES["escalate"], doing="escalate tickets"))
]
TicketResumer = Annotated[Caller, Depends(require_roles(*ROLES["resume"], doing="resume tickets"))]
TicketWorker = Annotated[
    Caller, Depends(require_roles(*ROLES["work"], doing="move tickets or put them on hold"))
]
SlaReader = Annotated[Caller, Depends(require_roles(*ROLES["read_sla"], doing="read SLA terms"))]
SlaPolicyEditor = Annotated[
    Caller, Depends(require_roles(*ROLES["set_sla_policy"], doing="set SLA policies"))
]
