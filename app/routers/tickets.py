"""Trouble tickets: intake, reads, the stage workflow, holds, notes, escalations, history; SLA
policies per country and the SLA report."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request, Response
from pydantic import BaseModel

from app.core.deps import GuardedWrite, SessionDep, Write, app_clock, request_driver
from app.core.direct_routes import (
    DirectRoute,
    Failures,
    Parameter,
    QueryModel,
    answer_directly,
    body_model,
    checked,
    json_body,
    policy_check,
    refuse_if_any,
)
from app.core.etag import etag_of, with_etag
from app.core.events import EventRead
from app.core.idempotency import (
    Idempotency,
    IdempotencyKey,
    SingleStatementIdempotency,
    keyed_request,
)
from app.core.pagination import Cursor, Limit, Page, PageParams, Paging, UpdatedSince
from app.core.schemas import Instant
from app.services.tickets import schemas, service, sla_policies
from app.services.tickets.policy import (
    SlaPolicyEditor,
    SlaReader,
    TicketEditor,
    TicketEscalator,
    TicketNoter,
    TicketOpener,
    TicketReader,
    TicketResumer,
    TicketWorker,
)
from app.services.tickets.rules import Severity, Stage, Status, ticket_location
from app.services.tickets.service import sla_report

# Intake and the two reads are answered by handlers written out below (`core.direct_routes`).
router = APIRouter(prefix="/v1/tickets", tags=["tickets"], route_class=DirectRoute)


class ListQuery(BaseModel):
    """The list's filters and paging, as one query model: FastAPI validates it in one step
    (where eight parameters were eight, each with its own per-request checks)."""

    status: Status | None = None
    stage: Stage | None = None
    severity: Severity | None = None
    enterprise_id: uuid.UUID | None = None
    breached: Annotated[bool | None, Query(description="Only tickets with a breached clock")] = None
    limit: Limit = 50
    cursor: Cursor = None
    updated_since: UpdatedSince = None

    def filters(self) -> schemas.TicketFilters:
        return schemas.TicketFilters(
            status=self.status,
            stage=self.stage,
            severity=self.severity,
            enterprise_id=self.enterprise_id,
            breached=self.breached,
        )

    def paging(self) -> PageParams:
        return PageParams(limit=self.limit, cursor=self.cursor, updated_since=self.updated_since)


class JsonBytes(Response):
    """A JSON document the server wrote, sent as it is."""

    media_type = "application/json"


_TICKET_JSON = schemas.TicketRead.__pydantic_serializer__.to_json


@router.post(
    "", status_code=201, summary="Open a trouble ticket", response_model=schemas.TicketRead
)
async def open_ticket(
    payload: schemas.TicketCreate,
    caller: TicketOpener,
    keyed: SingleStatementIdempotency,
    request: Request,
) -> Response:
    # The hottest write keeps FastAPI's per-request work small: three dependencies (body,
    # caller, key; the key's claim made here, not by a dependency on the caller), the pool's
    # connection taken here rather than by a generator dependency (and with no ORM session:
    # the use case runs plain SQL on the driver), and the answer built by the use case
    # serialised once, straight to bytes, not validated again against the response model.
    claim = None if keyed is None else keyed.claim_of(caller)
    async with request_driver(request) as db:
        ticket = await service.open_ticket(db, caller, app_clock(request), claim, payload)
    headers = {"Location": ticket_location(ticket.id)}
    response = JsonBytes(_TICKET_JSON(ticket), status_code=201, headers=headers)
    with_etag(response, ticket)
    return response


# The two reads a NOC polls: the server writes the JSON (`response_model` documents it),
# the route sends it as it comes, with no model validated or serialised on the way out.
@router.get(
    "",
    summary="Tickets the caller may see, by filter; keyset pages",
    response_model=Page[schemas.TicketRead],
)
async def list_tickets(
    caller: TicketReader, query: Annotated[ListQuery, Query()], request: Request
) -> Response:
    async with request_driver(request) as db:  # as intake: no generator dependency, no session
        page = await service.list_tickets(db, caller, query.filters(), query.paging())
    return JsonBytes(page)


@router.get(
    "/{ticket_id}", summary="One ticket with its SLA clocks", response_model=schemas.TicketRead
)
async def get_ticket(ticket_id: uuid.UUID, caller: TicketReader, request: Request) -> Response:
    async with request_driver(request) as db:
        ticket = await service.get_ticket(db, caller, ticket_id)
    return JsonBytes(ticket.body, headers={"ETag": etag_of(ticket.version)})


# The same steps as FastAPI's solving of the three signatures above, in its order (the body's
# JSON, the policy check, the parameters, every parameter's failure reported together).
_OPENER, _READER = policy_check(TicketOpener), policy_check(TicketReader)
_IDEMPOTENCY_KEY = Parameter("header", "Idempotency-Key", IdempotencyKey)
_TICKET_ID = Parameter("path", "ticket_id", uuid.UUID)
_LIST_QUERY = QueryModel(ListQuery)


@answer_directly(open_ticket)
async def _open_ticket_directly(request: Request) -> Response:
    body = await json_body(request)
    caller = await _OPENER(request)
    errors: Failures = []
    key = _IDEMPOTENCY_KEY.of(request, errors)
    keyed = None if errors else await keyed_request(request, key)
    payload = body_model(schemas.TicketCreate, body, errors)
    refuse_if_any(errors)
    assert payload is not None
    return await open_ticket(payload, caller, keyed, request)


@answer_directly(list_tickets)
async def _list_tickets_directly(request: Request) -> Response:
    caller, query = await checked(request, _READER, _LIST_QUERY)
    return await list_tickets(caller, query, request)


@answer_directly(get_ticket)
async def _get_ticket_directly(request: Request) -> Response:
    caller, ticket_id = await checked(request, _READER, _TICKET_ID)
    return await get_ticket(ticket_id, caller, request)


@router.patch(
    "/{ticket_id}",
    summary="Change severity, contact or description; staff name the service (If-Match)",
)
async def update_ticket(
    ticket_id: uuid.UUID, payload: schemas.TicketUpdate, caller: TicketEditor, write: GuardedWrite
) -> schemas.TicketRead:
    return await write.answer(service.update_ticket, caller, ticket_id, payload, write.if_match)


@router.post(
    "/{ticket_id}/transitions",
    summary="Move to the next stage (provider staff); past registration a service is required",
)
async def move_ticket(
    ticket_id: uuid.UUID, payload: schemas.TransitionIn, caller: TicketWorker, write: GuardedWrite
) -> schemas.TicketRead:
    return await write.answer(service.move_ticket, caller, ticket_id, payload, write.if_match)


@router.post("/{ticket_id}/hold", summary="Wait for the customer: the SLA clock stops")
async def hold_ticket(
    ticket_id: uuid.UUID, payload: schemas.HoldIn, caller: TicketWorker, write: Write
) -> schemas.TicketRead:
    return await write.answer(service.hold_ticket, caller, ticket_id, payload)


@router.post("/{ticket_id}/resume", summary="Resume: the clock runs again, due time pushed")
async def resume_ticket(
    ticket_id: uuid.UUID,
    caller: TicketResumer,
    write: Write,
    payload: Annotated[schemas.ResumeIn | None, Body()] = None,
) -> schemas.TicketRead:
    return await write.answer(service.resume_ticket, caller, ticket_id, payload)


@router.post("/{ticket_id}/notes", status_code=201, summary="Add a note (public or internal)")
async def add_note(
    ticket_id: uuid.UUID,
    payload: schemas.NoteIn,
    caller: TicketNoter,
    write: Write,
    claim: Idempotency,
) -> schemas.TicketRead:
    return await write.answer(service.add_note, caller, ticket_id, payload, claim=claim)


@router.post("/{ticket_id}/escalations", status_code=201, summary="Escalate one level")
async def escalate_ticket(
    ticket_id: uuid.UUID,
    payload: schemas.EscalationIn,
    caller: TicketEscalator,
    write: Write,
    claim: Idempotency,
) -> schemas.TicketRead:
    return await write.answer(service.escalate_ticket, caller, ticket_id, payload, claim=claim)


@router.get("/{ticket_id}/events", summary="The ticket's history, oldest first, a page at a time")
async def ticket_events(
    ticket_id: uuid.UUID, caller: TicketReader, session: SessionDep, paging: Paging
) -> Page[EventRead]:
    return await service.ticket_events(session, caller, ticket_id, paging)


sla_router = APIRouter(tags=["sla"])

CountryPath = Annotated[str, Path(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2")]


@sla_router.get("/v1/sla-policies/{country}", summary="A country's SLA policy")
async def get_policy(
    country: CountryPath, caller: SlaReader, session: SessionDep, response: Response
) -> schemas.SlaPolicyRead:
    return with_etag(response, await sla_policies.get_policy(session, country))


@sla_router.put("/v1/sla-policies/{country}", summary="Replace a country's SLA policy (admins)")
async def put_policy(
    country: CountryPath,
    payload: schemas.SlaPolicyBody,
    caller: SlaPolicyEditor,
    write: GuardedWrite,
) -> schemas.SlaPolicyRead:
    return await write.answer(sla_policies.put_policy, caller, country, payload, write.if_match)


@sla_router.get("/v1/reports/sla", summary="Clocks met and breached per stage; time to restore")
async def report(
    caller: SlaReader,
    session: SessionDep,
    enterprise_id: Annotated[uuid.UUID | None, Query()] = None,
    start: Annotated[Instant | None, Query(alias="from")] = None,
    end: Annotated[Instant | None, Query(alias="to")] = None,
) -> schemas.SlaReport:
    return await sla_report(session, caller, enterprise_id, start, end)
