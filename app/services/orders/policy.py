"""Who may do what with orders: the roles as data (one place, so a permission table can be
generated from it), and the typed dependencies endpoints declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import EVERYONE_BUT_CARRIERS, require_roles
from app.core.roles import PROVIDER_ROLES, Role
from app.core.tenancy import Caller
from app.services.orders.rules import OrderStatus

ROLES: dict[str, frozenset[Role]] = {
    # Tenancy, not the role, decides which orders a caller reads.
    "read": EVERYONE_BUT_CARRIERS,
    # The customer care manager owns the order.
    "create": frozenset({Role.customer_care_manager, Role.provider_admin}),
    "record_touchpoint": PROVIDER_ROLES,
    "progress": PROVIDER_ROLES,
    "cancel": PROVIDER_ROLES,
    # The customer's word on delivery (staff may record it for them).
    "accept": EVERYONE_BUT_CARRIERS,
}

# Who may move an order into each status (the workflow's roles per move).
MOVE_ROLES: dict[OrderStatus, frozenset[Role]] = {
    OrderStatus.in_progress: ROLES["progress"],
    OrderStatus.delivered: ROLES["progress"],
    OrderStatus.accepted: ROLES["accept"],
    OrderStatus.cancelled: ROLES["cancel"],
}

OrderReader = Annotated[Caller, Depends(require_roles(*ROLES["read"]))]
OrderDesk = Annotated[Caller, Depends(require_roles(*ROLES["create"], doing="create orders"))]
OrderStaff = Annotated[
    Caller,
    Depends(require_roles(*ROLES["record_touchpoint"], doing="record touchpoints")),
]
# Which move a caller may make is the workflow's question, asked of the requested status.
OrderMover = Annotated[
    Caller, Depends(require_roles(*frozenset().union(*MOVE_ROLES.values()), doing="move orders"))
]
