"""Who a change outside the catalogue is referred to: a role of the enterprise's account team."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


async def referral_target(
    session: AsyncSession, enterprise_id: uuid.UUID, role: str
) -> dict[str, Any]:
    """The account-team role to refer to (the person is named once account teams exist)."""
    return {"role": role}
