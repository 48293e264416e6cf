"""The contact directory: lines, offices, portals, billing mailboxes, escalation matrices, an
enterprise's notification contacts and account team, and city tiers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.core.deps import GuardedWrite, SessionDep, Write
from app.core.etag import with_etag
from app.core.idempotency import Idempotency
from app.core.pagination import CursorPaging, Page, Paging
from app.services.directory import account_team, city_tiers, contacts, escalation, schemas
from app.services.directory import service as directory
from app.services.directory.policy import (
    AccountTeamEditor,
    ContactManager,
    ContactReader,
    DirectoryEditor,
    DirectoryReader,
)

router = APIRouter(prefix="/v1/directory", tags=["directory"])

CountryQuery = Annotated[
    str | None, Query(min_length=1, max_length=8, description="ISO 3166-1 alpha-2")
]


@router.get("/lines", summary="Which number to call, by country, purpose and service")
async def list_lines(
    caller: DirectoryReader,
    session: SessionDep,
    paging: CursorPaging,
    country: CountryQuery = None,
    purpose: schemas.Purpose | None = None,
    service: Annotated[
        str | None,
        Query(
            max_length=64,
            description="A product line (data, voice, cdn, managed_voice, vyvx, …); "
            "lines with no services serve all",
        ),
    ] = None,
) -> Page[schemas.DirectoryLineRead]:
    return await directory.list_lines(session, paging, country, purpose, service)


@router.get("/offices", summary="Main office numbers and addresses")
async def list_offices(
    caller: DirectoryReader, session: SessionDep, paging: CursorPaging, country: CountryQuery = None
) -> Page[schemas.OfficeRead]:
    return await directory.list_offices(session, paging, country)


@router.get(
    "/portals",
    summary="Which portal a country's customers use (both readings where the handbooks differ)",
)
async def list_portals(
    caller: DirectoryReader, session: SessionDep, paging: CursorPaging, country: CountryQuery = None
) -> Page[schemas.PortalRead]:
    return await directory.list_portals(session, paging, country)


@router.get("/billing-mailboxes", summary="Where PO, HES and MIGO numbers go, per country")
async def list_billing_mailboxes(
    caller: DirectoryReader, session: SessionDep, paging: CursorPaging, country: CountryQuery = None
) -> Page[schemas.BillingMailboxRead]:
    return await directory.list_billing_mailboxes(session, paging, country)


@router.get("/escalation", summary="A country's escalation matrix (or its TSC lines as fallback)")
async def get_escalation(
    caller: DirectoryReader,
    session: SessionDep,
    response: Response,
    country: Annotated[str, Query(min_length=1, max_length=8, description="ISO 3166-1 alpha-2")],
) -> schemas.EscalationMatrixRead:
    matrix = await escalation.get_matrix(session, country)
    return with_etag(response, matrix)


@router.put(
    "/escalation/{country}",
    summary="Replace a country's escalation matrix (provider admins); no levels: TSC fallback",
)
async def put_escalation(
    country: str,
    payload: schemas.EscalationMatrixWrite,
    caller: DirectoryEditor,
    write: GuardedWrite,
) -> schemas.EscalationMatrixRead:
    matrix = await escalation.replace_matrix(
        write.session, write.clock, country, payload, write.if_match
    )
    return write.tagged(matrix)


contacts_router = APIRouter(prefix="/v1/enterprises", tags=["contacts"])


@contacts_router.post(
    "/{enterprise_id}/contacts",
    status_code=201,
    summary="Add a notification contact (customer administrators, provider admins)",
)
async def create_contact(
    enterprise_id: uuid.UUID,
    payload: schemas.ContactCreate,
    caller: ContactManager,
    write: Write,
    claim: Idempotency,
) -> schemas.ContactRead:
    return await contacts.create_contact(
        write.session, caller, write.clock, claim, enterprise_id, payload
    )


@contacts_router.get("/{enterprise_id}/contacts", summary="The enterprise's notification contacts")
async def list_contacts(
    enterprise_id: uuid.UUID, caller: ContactReader, session: SessionDep, paging: Paging
) -> Page[schemas.ContactRead]:
    return await contacts.list_contacts(session, caller, enterprise_id, paging)


@contacts_router.get("/{enterprise_id}/contacts/{contact_id}", summary="One notification contact")
async def get_contact(
    enterprise_id: uuid.UUID,
    contact_id: uuid.UUID,
    caller: ContactReader,
    session: SessionDep,
    response: Response,
) -> schemas.ContactRead:
    contact = await contacts.get_contact(session, caller, enterprise_id, contact_id)
    return with_etag(response, contact)


@contacts_router.patch(
    "/{enterprise_id}/contacts/{contact_id}", summary="Change a notification contact"
)
async def update_contact(
    enterprise_id: uuid.UUID,
    contact_id: uuid.UUID,
    payload: schemas.ContactUpdate,
    caller: ContactManager,
    write: GuardedWrite,
) -> schemas.ContactRead:
    return await write.answer(
        contacts.update_contact, caller, enterprise_id, contact_id, payload, write.if_match
    )


@contacts_router.delete(
    "/{enterprise_id}/contacts/{contact_id}",
    status_code=204,
    summary="Remove a notification contact",
)
async def delete_contact(
    enterprise_id: uuid.UUID,
    contact_id: uuid.UUID,
    caller: ContactManager,
    session: SessionDep,
) -> Response:
    await contacts.delete_contact(session, caller, enterprise_id, contact_id)
    return Response(status_code=204)


@contacts_router.get("/{enterprise_id}/account-team", summary="The enterprise's account team")
async def get_account_team(
    enterprise_id: uuid.UUID, caller: ContactReader, session: SessionDep
) -> schemas.AccountTeamRead:
    return await account_team.get_account_team(session, caller, enterprise_id)


@contacts_router.put(
    "/{enterprise_id}/account-team", summary="Set the enterprise's account team (provider staff)"
)
async def put_account_team(
    enterprise_id: uuid.UUID,
    payload: schemas.AccountTeamWrite,
    caller: AccountTeamEditor,
    write: Write,
) -> schemas.AccountTeamRead:
    return await account_team.set_account_team(
        write.session, caller, write.clock, enterprise_id, payload
    )


city_tiers_router = APIRouter(prefix="/v1/city-tiers", tags=["city tiers"])

City = Annotated[str, Path(min_length=1, max_length=120, description="Case and accents ignored")]


@city_tiers_router.get(
    "/{country}", summary="The listed cities of a country; any other is intermediate"
)
async def list_city_tiers(
    country: str, caller: DirectoryReader, session: SessionDep, paging: CursorPaging
) -> Page[schemas.CityTierRead]:
    return await city_tiers.list_city_tiers(session, country, paging)


@city_tiers_router.get("/{country}/{city}", summary="A city's tier")
async def get_city_tier(
    country: str, city: City, caller: DirectoryReader, session: SessionDep
) -> schemas.CityTierRead:
    return await city_tiers.get_city_tier(session, country, city)


@city_tiers_router.put("/{country}/{city}", summary="Set a city's tier (provider admins)")
async def put_city_tier(
    country: str,
    city: City,
    payload: schemas.CityTierWrite,
    caller: DirectoryEditor,
    write: Write,
) -> schemas.CityTierRead:
    return await city_tiers.set_city_tier(write.session, write.clock, country, city, payload.tier)
