"""An enterprise's notification contacts and account team."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.core.caller import Caller
from app.core.deps import (
    ClockDep,
    CustomerAdminOrProvider,
    ProviderStaff,
    SessionDep,
    require_roles,
)
from app.core.etag import IfMatch, set_etag
from app.core.idempotency import Idempotency
from app.core.pagination import Page, PageParams, page_params
from app.domain.roles import PROVIDER_ROLES, Role
from app.schemas.countries import (
    AccountTeamRead,
    AccountTeamWrite,
    ContactCreate,
    ContactRead,
    ContactUpdate,
)
from app.services import account_team, contacts

router = APIRouter(prefix="/v1/enterprises", tags=["contacts"])
Paging = Annotated[PageParams, Depends(page_params)]
# Carriers (machine-to-machine, tickets only) neither read nor write these.
EnterpriseReader = Annotated[
    Caller, Depends(require_roles(*PROVIDER_ROLES, Role.customer_admin, Role.customer_user))
]


@router.post(
    "/{enterprise_id}/contacts",
    status_code=201,
    summary="Add a notification contact (customer administrators, provider admins)",
)
async def create_contact(
    enterprise_id: uuid.UUID,
    payload: ContactCreate,
    caller: CustomerAdminOrProvider,
    session: SessionDep,
    clock: ClockDep,
    claim: Idempotency,
) -> ContactRead:
    return await contacts.create_contact(session, caller, clock, claim, enterprise_id, payload)


@router.get("/{enterprise_id}/contacts", summary="The enterprise's notification contacts")
async def list_contacts(
    enterprise_id: uuid.UUID, caller: EnterpriseReader, session: SessionDep, paging: Paging
) -> Page[ContactRead]:
    return await contacts.list_contacts(session, caller, enterprise_id, paging)


@router.get("/{enterprise_id}/contacts/{contact_id}", summary="One notification contact")
async def get_contact(
    enterprise_id: uuid.UUID,
    contact_id: uuid.UUID,
    caller: EnterpriseReader,
    session: SessionDep,
    response: Response,
) -> ContactRead:
    contact = await contacts.get_contact(session, caller, enterprise_id, contact_id)
    set_etag(response, contact.version)
    return contact


@router.patch("/{enterprise_id}/contacts/{contact_id}", summary="Change a notification contact")
async def update_contact(
    enterprise_id: uuid.UUID,
    contact_id: uuid.UUID,
    payload: ContactUpdate,
    caller: CustomerAdminOrProvider,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
    if_match: IfMatch = None,
) -> ContactRead:
    contact = await contacts.update_contact(
        session, caller, clock, enterprise_id, contact_id, payload, if_match
    )
    set_etag(response, contact.version)
    return contact


@router.delete(
    "/{enterprise_id}/contacts/{contact_id}",
    status_code=204,
    summary="Remove a notification contact",
)
async def delete_contact(
    enterprise_id: uuid.UUID,
    contact_id: uuid.UUID,
    caller: CustomerAdminOrProvider,
    session: SessionDep,
) -> Response:
    await contacts.delete_contact(session, caller, enterprise_id, contact_id)
    return Response(status_code=204)


@router.get("/{enterprise_id}/account-team", summary="The enterprise's account team")
async def get_account_team(
    enterprise_id: uuid.UUID, caller: EnterpriseReader, session: SessionDep
) -> AccountTeamRead:
    return await account_team.get_account_team(session, caller, enterprise_id)


@router.put(
    "/{enterprise_id}/account-team", summary="Set the enterprise's account team (provider staff)"
)
async def put_account_team(
    enterprise_id: uuid.UUID,
    payload: AccountTeamWrite,
    caller: ProviderStaff,
    session: SessionDep,
    clock: ClockDep,
) -> AccountTeamRead:
    return await account_team.set_account_team(session, caller, clock, enterprise_id, payload)
