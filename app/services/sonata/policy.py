"""Who may do what through Sonata: the roles as data (one place), and the typed dependencies
endpoints declare. Sonata is the wholesale carriers' face: a `carrier` client's, and the
seller's staff (who may look at what a buyer sees)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import require_roles
from app.core.roles import PROVIDER_ROLES, Role
from app.core.tenancy import Caller

_BUYERS = frozenset({Role.carrier})

ROLES: dict[str, frozenset[Role]] = {
    # Tenancy decides which tickets and incidents; the buyer's own face otherwise.
    "read": _BUYERS | PROVIDER_ROLES,
    # A buyer files, changes and confirms its tickets here; the TSC may do so for a buyer
    # (naming `buyerId`), as it opens tickets for a customer on /v1.
    "tickets": _BUYERS | frozenset({Role.provider_admin, Role.tsc_engineer}),
    # A hub is the buyer's outbound endpoint.
    "manage_hubs": _BUYERS | frozenset({Role.provider_admin}),
}

SonataReader = Annotated[
    Caller, Depends(require_roles(*ROLES["read"], doing="use the Sonata face"))
]
SonataBuyer = Annotated[
    Caller, Depends(require_roles(*ROLES["tickets"], doing="file tickets through Sonata"))
]
SonataHubManager = Annotated[
    Caller, Depends(require_roles(*ROLES["manage_hubs"], doing="manage Sonata hubs"))
]
