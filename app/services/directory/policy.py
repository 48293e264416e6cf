"""Who may do what with the directory (lines, offices, portals, mailboxes, escalation
matrices, city tiers) and an enterprise's contacts and account team: the roles as data (one
place, so a permission table can be generated from it), and the typed dependencies endpoints
declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import EVERYONE_BUT_CARRIERS, require_roles
from app.core.roles import Role
from app.core.tenancy import Caller

ROLES: dict[str, frozenset[Role]] = {
    # Whom to call, and the tiers that set SLA terms: every customer's people and systems
    # read them; a carrier's client is tickets only.
    "read": EVERYONE_BUT_CARRIERS,
    "edit_reference": frozenset({Role.provider_admin}),
    # Tenancy, not the role, decides whose contacts and account team a caller reads.
    "read_contacts": EVERYONE_BUT_CARRIERS,
    # Who is notified is the enterprise administrator's choice.
    "manage_contacts": frozenset({Role.provider_admin, Role.customer_admin}),
    # The account team is the carrier's: its staff who face the customer keep it.
    "set_account_team": frozenset(
        {Role.provider_admin, Role.customer_care_manager, Role.service_manager}
    ),
}

DirectoryReader = Annotated[
    Caller, Depends(require_roles(*ROLES["read"], doing="read the directory"))
]
DirectoryEditor = Annotated[
    Caller, Depends(require_roles(*ROLES["edit_reference"], doing="change the directory"))
]
ContactReader = Annotated[
    Caller, Depends(require_roles(*ROLES["read_contacts"], doing="read contacts"))
]
ContactManager = Annotated[
    Caller, Depends(require_roles(*ROLES["manage_contacts"], doing="manage contacts"))
]
AccountTeamEditor = Annotated[
    Caller, Depends(require_roles(*ROLES["set_account_team"], doing="set the account team"))
]
