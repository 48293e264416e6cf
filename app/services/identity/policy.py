"""Who may do what with API clients, users and one's own session: the roles as data (one
place, so a permission table can be generated from it), and the typed dependencies endpoints
declare. Which roles an administrator may hand out is `app.core.roles.may_grant`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import EVERYONE, require_roles
from app.core.roles import Role
from app.core.tenancy import Caller

_ADMINS = frozenset({Role.provider_admin, Role.customer_admin})

ROLES: dict[str, frozenset[Role]] = {
    # Everyone may ask who it is and sign out.
    "own_session": EVERYONE,
    # Credentials are the administrators': a customer's, for its own enterprises.
    "manage_api_clients": _ADMINS,
    "manage_users": _ADMINS,
}

SignedIn = Annotated[Caller, Depends(require_roles(*ROLES["own_session"]))]
ApiClientManager = Annotated[
    Caller, Depends(require_roles(*ROLES["manage_api_clients"], doing="manage API clients"))
]
UserManager = Annotated[
    Caller, Depends(require_roles(*ROLES["manage_users"], doing="manage users"))
]
