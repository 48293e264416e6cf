"""Who may add and read the files of tickets and billing requests. Tenancy decides which
tickets and requests a caller reaches; these roles decide who may use the routes at all."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import EVERYONE, require_roles
from app.core.roles import PROVIDER_ROLES, Role
from app.core.tenancy import Caller
from app.services.billing.policy import ROLES as BILLING_ROLES

ROLES: dict[str, frozenset[Role]] = {
    # Whoever may read a ticket, and add a note to it, may read and add its files.
    "read_ticket": EVERYONE,
    "attach_to_ticket": EVERYONE,
    # A billing request's files: its readers read them; whoever may file one adds to it.
    "read_billing": BILLING_ROLES["read"],
    "attach_to_billing": BILLING_ROLES["file"],
    # Like an internal note: staff only.
    "attach_internal": PROVIDER_ROLES,
}

TicketFileReader = Annotated[
    Caller, Depends(require_roles(*ROLES["read_ticket"], doing="read ticket attachments"))
]
TicketFileAdder = Annotated[
    Caller, Depends(require_roles(*ROLES["attach_to_ticket"], doing="attach files to tickets"))
]
BillingFileReader = Annotated[
    Caller, Depends(require_roles(*ROLES["read_billing"], doing="read billing attachments"))
]
BillingFileAdder = Annotated[
    Caller,
    Depends(require_roles(*ROLES["attach_to_billing"], doing="attach files to billing requests")),
]
