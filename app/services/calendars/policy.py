"""Who may do what with business calendars: the roles as data (one place, so a permission
table can be generated from it), and the typed dependencies endpoints declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.core.deps import EVERYONE_BUT_CARRIERS, require_roles
from app.core.roles import Role
from app.core.tenancy import Caller

ROLES: dict[str, frozenset[Role]] = {
    # Reference data every person and system of a customer may read; a carrier's client is
    # tickets only.
    "read": EVERYONE_BUT_CARRIERS,
    # Office hours and closed days move every deadline: the administrators'.
    "edit": frozenset({Role.provider_admin}),
}

CalendarReader = Annotated[Caller, Depends(require_roles(*ROLES["read"], doing="read calendars"))]
CalendarEditor = Annotated[
    Caller, Depends(require_roles(*ROLES["edit"], doing="change business calendars"))
]
