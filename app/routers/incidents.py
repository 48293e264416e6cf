"""Network incidents: the TSC declares one outage over many customers' services and tickets."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from app.core.deps import GuardedWrite, SessionDep, Write
from app.core.etag import with_etag
from app.core.idempotency import Idempotency
from app.core.pagination import Page, Paging
from app.services.incidents import links, schemas, service
from app.services.incidents.policy import (
    IncidentDeclarer,
    IncidentLinker,
    IncidentReader,
    IncidentResolver,
)
from app.services.incidents.rules import IncidentStatus

router = APIRouter(tags=["network incidents"])

DECLARE = """Declare a network incident (TSC engineers, provider administrators) over the
services it affects, and any tickets already open about it. Each affected enterprise receives
its own `incident.declared` event (mail, webhooks, stream) naming only its own services and
tickets. From now on a ticket opened on an affected service is linked to the incident by
itself. Resolving it moves the linked tickets to verification, with a note."""


@router.post(
    "/v1/incidents", status_code=201, summary="Declare a network incident", description=DECLARE
)
async def declare_incident(
    payload: schemas.IncidentCreate, caller: IncidentDeclarer, write: Write, claim: Idempotency
) -> schemas.IncidentRead:
    return await service.declare_incident(write.session, caller, write.clock, claim, payload)


@router.get(
    "/v1/incidents",
    summary="Network incidents; a customer sees those affecting it, with its own services only",
)
async def list_incidents(
    caller: IncidentReader,
    session: SessionDep,
    paging: Paging,
    status: IncidentStatus | None = None,
) -> Page[schemas.IncidentRead]:
    return await service.list_incidents(session, caller, paging, status)


@router.get("/v1/incidents/{incident_id}", summary="One network incident")
async def get_incident(
    incident_id: uuid.UUID, caller: IncidentReader, session: SessionDep, response: Response
) -> schemas.IncidentRead:
    return with_etag(response, await service.get_incident(session, caller, incident_id))


@router.put(
    "/v1/incidents/{incident_id}/services/{service_id}",
    summary="Link an affected service (its enterprise is told)",
)
async def link_service(
    incident_id: uuid.UUID, service_id: uuid.UUID, caller: IncidentLinker, write: GuardedWrite
) -> schemas.IncidentRead:
    return await write.answer(links.link_service, caller, incident_id, service_id, write.if_match)


@router.delete("/v1/incidents/{incident_id}/services/{service_id}", summary="Unlink a service")
async def unlink_service(
    incident_id: uuid.UUID, service_id: uuid.UUID, caller: IncidentLinker, write: GuardedWrite
) -> schemas.IncidentRead:
    return await write.answer(links.unlink_service, caller, incident_id, service_id, write.if_match)


@router.put(
    "/v1/incidents/{incident_id}/tickets/{ticket_id}",
    summary="Link a ticket worked under the incident",
)
async def link_ticket(
    incident_id: uuid.UUID, ticket_id: uuid.UUID, caller: IncidentLinker, write: GuardedWrite
) -> schemas.IncidentRead:
    return await write.answer(links.link_ticket, caller, incident_id, ticket_id, write.if_match)


@router.delete("/v1/incidents/{incident_id}/tickets/{ticket_id}", summary="Unlink a ticket")
async def unlink_ticket(
    incident_id: uuid.UUID, ticket_id: uuid.UUID, caller: IncidentLinker, write: GuardedWrite
) -> schemas.IncidentRead:
    return await write.answer(links.unlink_ticket, caller, incident_id, ticket_id, write.if_match)


@router.post(
    "/v1/incidents/{incident_id}/resolve",
    summary="Resolve the incident: affected customers are told, linked tickets go to verification",
)
async def resolve_incident(
    incident_id: uuid.UUID,
    payload: schemas.IncidentResolve,
    caller: IncidentResolver,
    write: GuardedWrite,
) -> schemas.IncidentRead:
    return await write.answer(
        service.resolve_incident, caller, incident_id, payload, write.if_match
    )
