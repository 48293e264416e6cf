"""Who a change outside the catalogue is referred to: the enterprise's account team."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AccountTeamMember

REFERRAL_ROLES = ("service_manager", "account_manager")


async def referral_target(
    session: AsyncSession, enterprise_id: uuid.UUID, role: str
) -> dict[str, Any]:
    """The preferred role's member of the account team, else the other referral role's;
    with no account team on file, the role alone (the desk assigns it)."""
    order = [role, *[r for r in REFERRAL_ROLES if r != role]]
    rows = (
        (
            await session.execute(
                select(AccountTeamMember).where(
                    AccountTeamMember.enterprise_id == enterprise_id,
                    AccountTeamMember.role.in_(order),
                )
            )
        )
        .scalars()
        .all()
    )
    for wanted in order:
        for member in rows:
            if member.role == wanted:
                return {"role": wanted, "name": member.name, "email": member.email}
    return {"role": role, "name": None, "email": None}
