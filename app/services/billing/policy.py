"""Who may do what with billing requests: the roles as data (one place, so a permission table
can be generated from it), and the typed dependencies endpoints declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import EVERYONE_BUT_CARRIERS, require_roles
from app.core.roles import PROVIDER_ROLES, Role
from app.core.tenancy import Caller
from app.services.billing.rules import BillingStatus

_AGENTS = frozenset({Role.billing_agent, Role.provider_admin})

ROLES: dict[str, frozenset[Role]] = {
    # Tenancy, not the role, decides which requests a caller reads.
    "read": EVERYONE_BUT_CARRIERS,
    "file": frozenset(
        {Role.customer_admin, Role.customer_user, Role.billing_agent, Role.provider_admin}
    ),
    # Backdating a request to when an e-mail really came in.
    "set_received_at": PROVIDER_ROLES,
    "acknowledge": _AGENTS,
    "review": _AGENTS,
    "resolve": _AGENTS,
}

# Who may move a request into each status (the workflow's roles per move).
MOVE_ROLES: dict[BillingStatus, frozenset[Role]] = {
    BillingStatus.acknowledged: ROLES["acknowledge"],
    BillingStatus.in_review: ROLES["review"],
    BillingStatus.resolved: ROLES["resolve"],
    BillingStatus.rejected: ROLES["resolve"],
}

BillingReader = Annotated[Caller, Depends(require_roles(*ROLES["read"]))]
BillingFiler = Annotated[
    Caller, Depends(require_roles(*ROLES["file"], doing="file billing requests"))
]
BillingAgent = Annotated[
    Caller,
    Depends(require_roles(*ROLES["acknowledge"] | ROLES["review"], doing="work billing requests")),
]
BillingResolver = Annotated[
    Caller, Depends(require_roles(*ROLES["resolve"], doing="resolve billing requests"))
]
