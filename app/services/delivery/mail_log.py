"""Read the mail log of the caller's enterprises."""

from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.orm_pages import fetch_page
from app.core.pagination import Page, PageParams
from app.core.tenancy import Caller, visible_to
from app.models import MailMessage
from app.services.delivery.schemas import MailRead, MailStatus

# Mail without an enterprise (none today) would be the provider's alone.
_TENANT = cast(InstrumentedAttribute[uuid.UUID], MailMessage.enterprise_id)


async def list_mail(
    session: AsyncSession,
    caller: Caller,
    params: PageParams,
    status: MailStatus | None,
    event_id: int | None,
) -> Page[MailRead]:
    stmt = visible_to(select(MailMessage), caller, _TENANT)
    if status is not None:
        stmt = stmt.where(MailMessage.status == status.value)
    if event_id is not None:
        stmt = stmt.where(MailMessage.event_id == event_id)
    items, cursor = await fetch_page(session, stmt, params, MailMessage.created_at, MailMessage.id)
    return Page(items=[MailRead.model_validate(m) for m in items], next_cursor=cursor)
