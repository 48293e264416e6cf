"""Who may do what through TMF621: the roles as data (one place, so a permission table can be
generated from it), and the typed dependencies endpoints declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import EVERYONE, require_roles
from app.core.roles import Role
from app.core.tenancy import Caller

ROLES: dict[str, frozenset[Role]] = {
    # Tenancy decides which tickets; the ticket rules decide who may file or change one.
    "tickets": EVERYONE,
    # A hub listener is an outbound endpoint: the administrators', and a carrier's client's
    # (its TMF621 face hears only ticket events).
    "manage_hubs": frozenset({Role.provider_admin, Role.customer_admin, Role.carrier}),
}

HubManager = Annotated[
    Caller, Depends(require_roles(*ROLES["manage_hubs"], doing="manage TMF621 hub listeners"))
]
TroubleTicketCaller = Annotated[
    Caller, Depends(require_roles(*ROLES["tickets"], doing="use trouble tickets"))
]
