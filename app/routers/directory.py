"""The contact directory: lines, offices, portals, billing mailboxes, escalation matrices."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.core.deps import AnyCaller, ClockDep, ProviderAdmin, SessionDep
from app.core.etag import IfMatch, set_etag
from app.schemas.countries import (
    BillingMailboxRead,
    DirectoryLineRead,
    EscalationMatrixRead,
    EscalationMatrixWrite,
    OfficeRead,
    PortalRead,
    Purpose,
)
from app.services import directory, escalation

router = APIRouter(prefix="/v1/directory", tags=["directory"])

CountryQuery = Annotated[
    str | None, Query(min_length=1, max_length=8, description="ISO 3166-1 alpha-2")
]


@router.get("/lines", summary="Which number to call, by country, purpose and service")
async def list_lines(
    caller: AnyCaller,
    session: SessionDep,
    country: CountryQuery = None,
    purpose: Purpose | None = None,
    service: Annotated[
        str | None,
        Query(
            max_length=64,
            description="A product line (data, voice, cdn, managed_voice, vyvx, …); "
            "lines with no services serve all",
        ),
    ] = None,
) -> list[DirectoryLineRead]:
    return await directory.list_lines(session, country, purpose, service)


@router.get("/offices", summary="Main office numbers and addresses")
async def list_offices(
    caller: AnyCaller, session: SessionDep, country: CountryQuery = None
) -> list[OfficeRead]:
    return await directory.list_offices(session, country)


@router.get(
    "/portals",
    summary="Which portal a country's customers use (both readings where the handbooks differ)",
)
async def list_portals(
    caller: AnyCaller, session: SessionDep, country: CountryQuery = None
) -> list[PortalRead]:
    return await directory.list_portals(session, country)


@router.get("/billing-mailboxes", summary="Where PO, HES and MIGO numbers go, per country")
async def list_billing_mailboxes(
    caller: AnyCaller, session: SessionDep, country: CountryQuery = None
) -> list[BillingMailboxRead]:
    return await directory.list_billing_mailboxes(session, country)


@router.get("/escalation", summary="A country's escalation matrix (or its TSC lines as fallback)")
async def get_escalation(
    caller: AnyCaller,
    session: SessionDep,
    response: Response,
    country: Annotated[str, Query(min_length=1, max_length=8, description="ISO 3166-1 alpha-2")],
) -> EscalationMatrixRead:
    matrix = await escalation.get_matrix(session, country)
    if matrix.version is not None:
        set_etag(response, matrix.version)
    return matrix


@router.put(
    "/escalation/{country}",
    summary="Replace a country's escalation matrix (provider admins); no levels: TSC fallback",
)
async def put_escalation(
    country: str,
    payload: EscalationMatrixWrite,
    caller: ProviderAdmin,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
    if_match: IfMatch = None,
) -> EscalationMatrixRead:
    matrix = await escalation.replace_matrix(session, clock, country, payload, if_match)
    if matrix.version is not None:
        set_etag(response, matrix.version)
    return matrix
