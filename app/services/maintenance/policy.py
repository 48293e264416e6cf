"""Who may do what with planned maintenance: the roles as data (one place, so a permission
table can be generated from it), and the typed dependencies endpoints declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import EVERYONE_BUT_CARRIERS, require_roles
from app.core.roles import CUSTOMER_ROLES, Role
from app.core.tenancy import Caller
from app.services.maintenance.rules import MaintenanceStatus

_CHANGE_MANAGERS = frozenset({Role.change_manager, Role.provider_admin})

ROLES: dict[str, frozenset[Role]] = {
    # Tenancy (the impacted enterprises), not the role, decides what a caller reads.
    "read": EVERYONE_BUT_CARRIERS,
    "announce": _CHANGE_MANAGERS,
    "update": _CHANGE_MANAGERS,
    "cancel": _CHANGE_MANAGERS,
    # The impacted customers confirm they have seen the notice.
    "acknowledge": CUSTOMER_ROLES & EVERYONE_BUT_CARRIERS,
    "set_country_policy": _CHANGE_MANAGERS,
    # The feed URL holds a secret: whoever reads maintenance may fetch it, a carrier may not.
    "read_feed": EVERYONE_BUT_CARRIERS,
    "rotate_feed": frozenset({Role.provider_admin, Role.customer_admin}),
}

# Who may move a maintenance into each status (the workflow's roles per move).
MOVE_ROLES: dict[MaintenanceStatus, frozenset[Role]] = {
    MaintenanceStatus.cancelled: ROLES["cancel"],
}

MaintenanceReader = Annotated[Caller, Depends(require_roles(*ROLES["read"]))]
MaintenanceAnnouncer = Annotated[
    Caller, Depends(require_roles(*ROLES["announce"], doing="announce maintenance"))
]
MaintenanceEditor = Annotated[
    Caller, Depends(require_roles(*ROLES["update"], doing="change maintenance"))
]
MaintenanceCanceller = Annotated[
    Caller, Depends(require_roles(*ROLES["cancel"], doing="cancel maintenance"))
]
MaintenanceAcknowledger = Annotated[
    Caller,
    Depends(require_roles(*ROLES["acknowledge"], doing="acknowledge a maintenance notice")),
]
CountryPolicyEditor = Annotated[
    Caller,
    Depends(require_roles(*ROLES["set_country_policy"], doing="set maintenance policies")),
]
FeedReader = Annotated[
    Caller, Depends(require_roles(*ROLES["read_feed"], doing="read the calendar feed URL"))
]
FeedRotator = Annotated[
    Caller, Depends(require_roles(*ROLES["rotate_feed"], doing="rotate the calendar feed"))
]
