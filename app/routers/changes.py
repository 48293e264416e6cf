"""Change requests on active services, and the catalogue of standard changes."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from app.core.deps import GuardedWrite, SessionDep, Write
from app.core.etag import with_etag
from app.core.events import EventRead
from app.core.idempotency import Idempotency
from app.core.pagination import Page, Paging
from app.services.changes import schemas, service
from app.services.changes.policy import (
    ChangeMover,
    ChangeReader,
    ChangeRequester,
    ChangeScheduler,
)
from app.services.changes.rules import ChangeStatus

router = APIRouter(tags=["changes"])

CREATE_DESCRIPTION = """Ask for a change on up to 10 active services of one enterprise.

A `catalog_item` from `GET /v1/change-catalog` makes a `standard` change, analysed within 72
business hours of receipt (`analysis_due_at`, on the enterprise country's calendar). With
`catalog_item` null the change is outside the catalogue: its status is `referred` and
`routed_to` names the account-team role it goes to (the service manager for managed services,
else the account manager). Execution is later scheduled in business hours or inside `window`.
"""


@router.get(
    "/v1/change-catalog",
    summary="The standard changes and the products they apply to (one page: the whole list)",
)
async def change_catalog(caller: ChangeReader) -> Page[schemas.CatalogItemRead]:
    return service.catalog()


@router.post(
    "/v1/change-requests",
    status_code=201,
    summary="Request a change on active services",
    description=CREATE_DESCRIPTION,
)
async def create_change_request(
    payload: schemas.ChangeRequestCreate,
    caller: ChangeRequester,
    write: Write,
    claim: Idempotency,
) -> schemas.ChangeRequestRead:
    return await service.create_change_request(write.session, caller, write.clock, claim, payload)


@router.get("/v1/change-requests", summary="Change requests the caller may see")
async def list_change_requests(
    caller: ChangeReader,
    session: SessionDep,
    paging: Paging,
    enterprise_id: uuid.UUID | None = None,
    status: ChangeStatus | None = None,
) -> Page[schemas.ChangeRequestRead]:
    return await service.CHANGES.page(
        session, caller, paging, enterprise_id=enterprise_id, status=status
    )


@router.get("/v1/change-requests/{change_id}", summary="One change request")
async def get_change_request(
    change_id: uuid.UUID, caller: ChangeReader, session: SessionDep, response: Response
) -> schemas.ChangeRequestRead:
    row = await service.CHANGES.get(session, caller, change_id)
    return with_etag(response, row)


@router.post(
    "/v1/change-requests/{change_id}/schedule",
    summary="Schedule execution: in business hours, or inside the customer's window",
)
async def schedule(
    change_id: uuid.UUID,
    payload: schemas.ChangeSchedule,
    caller: ChangeScheduler,
    write: GuardedWrite,
) -> schemas.ChangeRequestRead:
    return await write.answer(service.schedule, caller, change_id, payload, write.if_match)


@router.post(
    "/v1/change-requests/{change_id}/transitions",
    summary="Analyse, complete, reject or cancel a change (customers may cancel)",
)
async def transition(
    change_id: uuid.UUID,
    payload: schemas.ChangeTransition,
    caller: ChangeMover,
    write: GuardedWrite,
) -> schemas.ChangeRequestRead:
    return await write.answer(service.transition, caller, change_id, payload, write.if_match)


@router.get("/v1/change-requests/{change_id}/events", summary="The change's history")
async def change_events(
    change_id: uuid.UUID, caller: ChangeReader, session: SessionDep, paging: Paging
) -> Page[EventRead]:
    return await service.CHANGES.history(session, caller, change_id, paging)
