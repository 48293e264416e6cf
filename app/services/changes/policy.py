"""Who may do what with change requests: the roles as data (one place, so a permission table
can be generated from it), and the typed dependencies endpoints declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import EVERYONE_BUT_CARRIERS, require_roles
from app.core.roles import CUSTOMER_ROLES, PROVIDER_ROLES, Role
from app.core.tenancy import Caller
from app.services.changes.rules import ChangeStatus

# The carrier's change and service managers work the requests.
_MANAGERS = frozenset({Role.provider_admin, Role.change_manager, Role.service_manager})

ROLES: dict[str, frozenset[Role]] = {
    # Tenancy, not the role, decides which requests (and the catalogue) a caller reads.
    "read": EVERYONE_BUT_CARRIERS,
    "request": frozenset(
        {
            Role.customer_admin,
            Role.customer_user,
            Role.provider_admin,
            Role.change_manager,
            Role.service_manager,
            Role.customer_care_manager,
        }
    ),
    "set_received_at": PROVIDER_ROLES,
    "analyse": _MANAGERS,
    "schedule": _MANAGERS,
    "complete": _MANAGERS,
    "reject": _MANAGERS,
    # A customer may withdraw its own request; other staff than the managers may not.
    "cancel": _MANAGERS | (CUSTOMER_ROLES & EVERYONE_BUT_CARRIERS),
}

# Who may move a request into each status (the workflow's roles per move).
MOVE_ROLES: dict[ChangeStatus, frozenset[Role]] = {
    ChangeStatus.analysed: ROLES["analyse"],
    ChangeStatus.scheduled: ROLES["schedule"],
    ChangeStatus.completed: ROLES["complete"],
    ChangeStatus.rejected: ROLES["reject"],
    ChangeStatus.cancelled: ROLES["cancel"],
}

_MOVERS = frozenset().union(*(MOVE_ROLES[s] for s in MOVE_ROLES if s is not ChangeStatus.scheduled))

ChangeReader = Annotated[Caller, Depends(require_roles(*ROLES["read"]))]
ChangeRequester = Annotated[
    Caller, Depends(require_roles(*ROLES["request"], doing="request changes"))
]
ChangeScheduler = Annotated[
    Caller, Depends(require_roles(*ROLES["schedule"], doing="schedule changes"))
]
# Which move a caller may make is the workflow's question, asked of the requested status.
ChangeMover = Annotated[Caller, Depends(require_roles(*_MOVERS, doing="work change requests"))]
