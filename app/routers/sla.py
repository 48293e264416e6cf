"""SLA policies per country and the SLA report."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.core.deps import AnyCaller, ClockDep, ProviderAdmin, SessionDep
from app.core.etag import IfMatch, set_etag
from app.schemas.tickets import SlaPolicyBody, SlaPolicyRead, SlaReport
from app.services import sla_policies
from app.services.tickets import sla_report

router = APIRouter(tags=["sla"])
CountryPath = Annotated[str, Path(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")]


@router.get("/v1/sla-policies/{country}", summary="A country's SLA policy")
async def get_policy(
    country: CountryPath, caller: AnyCaller, session: SessionDep, response: Response
) -> SlaPolicyRead:
    policy = await sla_policies.get_policy(session, country)
    set_etag(response, policy.version)
    return policy


@router.put("/v1/sla-policies/{country}", summary="Replace a country's SLA policy (admins)")
async def put_policy(
    country: CountryPath,
    payload: SlaPolicyBody,
    caller: ProviderAdmin,
    session: SessionDep,
    clock: ClockDep,
    response: Response,
    if_match: IfMatch = None,
) -> SlaPolicyRead:
    policy = await sla_policies.put_policy(session, caller, clock, country, payload, if_match)
    set_etag(response, policy.version)
    return policy


@router.get("/v1/reports/sla", summary="Clocks met and breached per stage; time to restore")
async def report(
    caller: AnyCaller,
    session: SessionDep,
    enterprise_id: Annotated[uuid.UUID | None, Query()] = None,
    start: Annotated[datetime | None, Query(alias="from")] = None,
    end: Annotated[datetime | None, Query(alias="to")] = None,
) -> SlaReport:
    return await sla_report(session, caller, enterprise_id, start, end)
