"""The mail log: notifications written for the caller's enterprises, sent or not."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.core.deps import AnyCaller, SessionDep
from app.core.pagination import Page, PageParams, page_params
from app.schemas.mail import MailRead, MailStatus
from app.services import mail_log as service

router = APIRouter(prefix="/v1/mail-messages", tags=["notifications"])


@router.get("", summary="The mail log: each notification, its status and why it was not sent")
async def list_mail(
    caller: AnyCaller,
    session: SessionDep,
    paging: Annotated[PageParams, Depends(page_params)],
    status: MailStatus | None = None,
    event_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Page[MailRead]:
    return await service.list_mail(session, caller, paging, status, event_id)
