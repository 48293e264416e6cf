"""Who may do what with mailboxes and inbound mail."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import require_roles
from app.core.roles import PROVIDER_ROLES, Role
from app.core.tenancy import Caller

ROLES: dict[str, frozenset[Role]] = {
    # The addresses Carrier Desk answers for are the administrators' to declare.
    "declare_mailboxes": frozenset({Role.provider_admin}),
    "read_mailboxes": PROVIDER_ROLES,
    # Held mail can be anyone's: only staff read it, assign it or discard it.
    "work_inbound": PROVIDER_ROLES,
}

MailboxAdmin = Annotated[
    Caller, Depends(require_roles(*ROLES["declare_mailboxes"], doing="declare mailboxes"))
]
MailboxReader = Annotated[
    Caller, Depends(require_roles(*ROLES["read_mailboxes"], doing="read mailboxes"))
]
InboundWorker = Annotated[
    Caller, Depends(require_roles(*ROLES["work_inbound"], doing="work inbound mail"))
]
