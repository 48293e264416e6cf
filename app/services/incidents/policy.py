"""Who may do what with network incidents: the roles as data (one place), and the typed
dependencies endpoints declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import EVERYONE_BUT_CARRIERS, require_roles
from app.core.roles import Role
from app.core.tenancy import Caller
from app.services.incidents.rules import IncidentStatus

_TSC = frozenset({Role.tsc_engineer, Role.provider_admin})

ROLES: dict[str, frozenset[Role]] = {
    # Tenancy (the affected services and tickets) decides what a caller reads. A carrier's
    # client reads incidents on its own face, Sonata's `incident`, not here.
    "read": EVERYONE_BUT_CARRIERS,
    "declare": _TSC,
    "link": _TSC,
    "resolve": _TSC,
}

MOVE_ROLES: dict[IncidentStatus, frozenset[Role]] = {
    IncidentStatus.resolved: ROLES["resolve"],
}

IncidentReader = Annotated[Caller, Depends(require_roles(*ROLES["read"]))]
IncidentDeclarer = Annotated[
    Caller, Depends(require_roles(*ROLES["declare"], doing="declare network incidents"))
]
IncidentLinker = Annotated[
    Caller, Depends(require_roles(*ROLES["link"], doing="link services and tickets to incidents"))
]
IncidentResolver = Annotated[
    Caller, Depends(require_roles(*ROLES["resolve"], doing="resolve network incidents"))
]
