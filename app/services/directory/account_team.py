"""The account team of an enterprise: set by provider staff, read by the enterprise."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.errors import field_error
from app.core.tenancy import Caller, visible_to
from app.models import AccountTeamMember
from app.services.directory.rules import PhoneNumber, to_e164
from app.services.directory.schemas import (
    AccountRole,
    AccountTeamMemberRead,
    AccountTeamRead,
    AccountTeamWrite,
    ProductArea,
)
from app.services.enterprises.service import get_enterprise


async def get_account_team(
    session: AsyncSession, caller: Caller, enterprise_id: uuid.UUID
) -> AccountTeamRead:
    await get_enterprise(session, caller, enterprise_id)
    rows = (
        (
            await session.execute(
                visible_to(select(AccountTeamMember), caller, AccountTeamMember.enterprise_id)
                .where(AccountTeamMember.enterprise_id == enterprise_id)
                .order_by(AccountTeamMember.role, AccountTeamMember.product_area)
            )
        )
        .scalars()
        .all()
    )
    return AccountTeamRead(
        enterprise_id=enterprise_id,
        members=[
            AccountTeamMemberRead(
                role=AccountRole(m.role),
                product_area=ProductArea(m.product_area) if m.product_area else None,
                name=m.name,
                email=m.email,
                phone=PhoneNumber(display=m.phone, e164=m.phone_e164) if m.phone else None,
            )
            for m in rows
        ],
        updated_at=max((m.updated_at for m in rows), default=None),
    )


async def set_account_team(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    enterprise_id: uuid.UUID,
    payload: AccountTeamWrite,
) -> AccountTeamRead:
    """Replace the whole team. One person per role, one sales engineer per product area."""
    enterprise = await get_enterprise(session, caller, enterprise_id)
    seen: set[tuple[str, str | None]] = set()
    rows = []
    now = clock.now()
    for i, member in enumerate(payload.members):
        is_engineer = member.role is AccountRole.sales_engineer
        if is_engineer and member.product_area is None:
            raise field_error(f"members.{i}.product_area", "required for a sales engineer")
        if not is_engineer and member.product_area is not None:
            raise field_error(f"members.{i}.product_area", "only a sales engineer has one")
        key = (member.role.value, member.product_area.value if member.product_area else None)
        if key in seen:
            raise field_error(f"members.{i}.role", "this role (and product area) is listed twice")
        seen.add(key)
        e164 = None
        if member.phone is not None:
            e164 = to_e164(member.phone, enterprise.country)
            if e164 is None:
                raise field_error(
                    f"members.{i}.phone",
                    f"{member.phone!r} is not a valid phone number for {enterprise.country}",
                )
        rows.append(
            {
                "id": uuid.uuid4(),
                "enterprise_id": enterprise.id,
                "role": key[0],
                "product_area": key[1],
                "name": member.name,
                "email": str(member.email),
                "phone": member.phone,
                "phone_e164": e164,
                "updated_at": now,
            }
        )
    await session.execute(
        delete(AccountTeamMember).where(AccountTeamMember.enterprise_id == enterprise.id)
    )
    if rows:
        await session.execute(insert(AccountTeamMember).values(rows))
    await session.commit()
    return await get_account_team(session, caller, enterprise_id)
