"""Who may do what with webhooks, the mail log and the event stream: the roles as data (one
place, so a permission table can be generated from it), and the typed dependencies endpoints
declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import EVERYONE_BUT_CARRIERS, require_roles
from app.core.roles import Role
from app.core.tenancy import Caller

ROLES: dict[str, frozenset[Role]] = {
    # Tenancy, not the role, decides whose endpoints, mail and events a caller reads; a
    # carrier's client (tickets only) reads none of them: its channel is the TMF621 hub.
    "read": EVERYONE_BUT_CARRIERS,
    # Outbound endpoints are the administrators'.
    "manage_webhooks": frozenset({Role.provider_admin, Role.customer_admin}),
}

DeliveryReader = Annotated[Caller, Depends(require_roles(*ROLES["read"], doing="read this"))]
WebhookManager = Annotated[
    Caller, Depends(require_roles(*ROLES["manage_webhooks"], doing="manage webhook endpoints"))
]
