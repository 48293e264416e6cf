"""Who may do what with enterprises, their billing accounts and services: the roles as data
(one place, so a permission table can be generated from it), and the typed dependencies
endpoints declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import EVERYONE_BUT_CARRIERS, require_roles
from app.core.roles import Role
from app.core.tenancy import Caller

_ADMINS = frozenset({Role.provider_admin})

ROLES: dict[str, frozenset[Role]] = {
    # Tenancy, not the role, decides which enterprises a caller reads; a carrier's client is
    # tickets only.
    "read": EVERYONE_BUT_CARRIERS,
    # Tenants, their accounts and their services are the carrier's records.
    "create": _ADMINS,
    "update": _ADMINS,
    "add_account": _ADMINS,
    "register_service": _ADMINS,
}

EnterpriseReader = Annotated[Caller, Depends(require_roles(*ROLES["read"], doing="read this"))]
EnterpriseCreator = Annotated[
    Caller, Depends(require_roles(*ROLES["create"], doing="create enterprises"))
]
EnterpriseEditor = Annotated[
    Caller, Depends(require_roles(*ROLES["update"], doing="change enterprises"))
]
AccountAdder = Annotated[
    Caller, Depends(require_roles(*ROLES["add_account"], doing="add billing accounts"))
]
ServiceRegistrar = Annotated[
    Caller, Depends(require_roles(*ROLES["register_service"], doing="register services"))
]
