"""Planned maintenance (global change requests), its calendar feed and country rules."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.core.deps import ClockDep, GuardedWrite, SessionDep, SettingsDep, Write
from app.core.etag import with_etag
from app.core.events import EventRead
from app.core.idempotency import Idempotency
from app.core.pagination import Page, Paging
from app.core.schemas import Instant
from app.services.maintenance import country_policies as maintenance_policies
from app.services.maintenance import feed as maintenance_feed
from app.services.maintenance import schemas, service
from app.services.maintenance.policy import (
    CountryPolicyEditor,
    FeedReader,
    FeedRotator,
    MaintenanceAcknowledger,
    MaintenanceAnnouncer,
    MaintenanceCanceller,
    MaintenanceEditor,
    MaintenanceReader,
)
from app.services.maintenance.rules import MaintenanceStatus

router = APIRouter(tags=["maintenance"])


_optional_bearer = HTTPBearer(auto_error=False)

CREATE_DESCRIPTION = """Announce a global change request (GCR). `gcr_number` is generated
(GCR-YYYY-NNNNNN) when absent. `impacted_enterprise_ids` is derived from the services.

`standard` work must fall inside the maintenance window of every impacted site's country
(default 00:00-06:00 local time) and be announced at least the notice period ahead (default 10
calendar days); both are set per country at `/v1/maintenance-policies/{country}`. A breach is a
422 whose `errors[].rule` names `maintenance_window` or `notice_period`. `emergency` work may
come at any time and notice, and is marked `emergency: true`. Each impacted enterprise gets its
own `maintenance.announced` event (and so its own notification).
"""


@router.post(
    "/v1/maintenances",
    status_code=201,
    summary="Announce maintenance (change managers)",
    description=CREATE_DESCRIPTION,
)
async def create_maintenance(
    payload: schemas.MaintenanceCreate,
    caller: MaintenanceAnnouncer,
    write: Write,
    claim: Idempotency,
) -> schemas.MaintenanceRead:
    return await service.create_maintenance(write.session, caller, write.clock, claim, payload)


@router.get(
    "/v1/maintenances",
    summary="Maintenances; a customer sees only those touching its services",
)
async def list_maintenances(
    caller: MaintenanceReader,
    session: SessionDep,
    paging: Paging,
    status: MaintenanceStatus | None = None,
    starts_after: Instant | None = None,
) -> Page[schemas.MaintenanceRead]:
    return await service.list_maintenances(session, caller, paging, status, starts_after)


@router.get(
    "/v1/maintenances.ics",
    summary="The maintenance calendar (RFC 5545), one VEVENT per GCR",
    description="Authenticated by a bearer token, or by `feed`, the secret of the URL shown "
    "at `GET /v1/enterprises/{id}/maintenance-feed` (for calendar apps).",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
async def maintenance_calendar(
    session: SessionDep,
    clock: ClockDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_optional_bearer)],
    feed: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> Response:
    token = credentials.credentials if credentials is not None else None
    body = await maintenance_feed.calendar(session, clock.now(), token, feed)
    return Response(body, media_type="text/calendar; charset=utf-8")


@router.get("/v1/maintenances/{maintenance_id}", summary="One maintenance")
async def get_maintenance(
    maintenance_id: uuid.UUID, caller: MaintenanceReader, session: SessionDep, response: Response
) -> schemas.MaintenanceRead:
    row = await service.MAINTENANCE.get(session, caller, maintenance_id)
    return with_etag(response, row)


@router.patch(
    "/v1/maintenances/{maintenance_id}",
    summary="Change a maintenance (change managers); the impacted enterprises are notified again",
)
async def update_maintenance(
    maintenance_id: uuid.UUID,
    payload: schemas.MaintenanceUpdate,
    caller: MaintenanceEditor,
    write: GuardedWrite,
) -> schemas.MaintenanceRead:
    return await write.answer(
        service.update_maintenance, caller, maintenance_id, payload, write.if_match
    )


@router.post(
    "/v1/maintenances/{maintenance_id}/cancel",
    summary="Cancel a maintenance (change managers); the impacted enterprises are notified",
)
async def cancel_maintenance(
    maintenance_id: uuid.UUID,
    payload: schemas.MaintenanceCancel,
    caller: MaintenanceCanceller,
    write: GuardedWrite,
) -> schemas.MaintenanceRead:
    return await write.answer(
        service.cancel_maintenance, caller, maintenance_id, payload, write.if_match
    )


@router.post(
    "/v1/maintenances/{maintenance_id}/acknowledge",
    summary="Acknowledge a maintenance notice (impacted customers)",
)
async def acknowledge(
    maintenance_id: uuid.UUID, caller: MaintenanceAcknowledger, write: Write
) -> schemas.MaintenanceRead:
    return await service.acknowledge(write.session, caller, write.clock, maintenance_id)


@router.get("/v1/maintenances/{maintenance_id}/events", summary="The maintenance's history")
async def maintenance_events(
    maintenance_id: uuid.UUID, caller: MaintenanceReader, session: SessionDep, paging: Paging
) -> Page[EventRead]:
    return await service.MAINTENANCE.history(session, caller, maintenance_id, paging)


@router.get(
    "/v1/enterprises/{enterprise_id}/maintenance-feed",
    summary="The enterprise's secret iCalendar feed URL (made on first request)",
)
async def maintenance_feed_url(
    enterprise_id: uuid.UUID,
    caller: FeedReader,
    write: Write,
    settings: SettingsDep,
) -> schemas.MaintenanceFeedRead:
    return await maintenance_feed.feed_of(
        write.session, caller, write.clock, enterprise_id, settings.public_url
    )


@router.post(
    "/v1/enterprises/{enterprise_id}/maintenance-feed/rotate",
    summary="Replace the feed URL's secret (the old URL stops working)",
)
async def rotate_maintenance_feed(
    enterprise_id: uuid.UUID,
    caller: FeedRotator,
    write: Write,
    settings: SettingsDep,
) -> schemas.MaintenanceFeedRead:
    return await maintenance_feed.feed_of(
        write.session, caller, write.clock, enterprise_id, settings.public_url, rotate=True
    )


@router.get(
    "/v1/maintenance-policies/{country}",
    summary="A country's maintenance window (local time) and notice period",
)
async def get_policy(
    country: str, caller: MaintenanceReader, session: SessionDep
) -> schemas.MaintenancePolicyRead:
    return await maintenance_policies.get_policy(session, country)


@router.put(
    "/v1/maintenance-policies/{country}",
    summary="Set a country's maintenance window and notice period (change managers)",
)
async def put_policy(
    country: str,
    payload: schemas.MaintenancePolicyUpdate,
    caller: CountryPolicyEditor,
    write: Write,
) -> schemas.MaintenancePolicyRead:
    return await maintenance_policies.put_policy(write.session, write.clock, country, payload)
