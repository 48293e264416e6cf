"""MEF LSO Sonata Trouble Ticket and Incident Management v4 for wholesale carriers.

Mapping tables: `app/services/sonata/rules.py` and `docs/SONATA.md`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.deps import SessionDep, Write
from app.core.errors import PROBLEM_JSON, Problem
from app.core.idempotency import Idempotency
from app.core.schemas import Instant
from app.services.sonata import errors, hubs, incidents, reads, schemas, service
from app.services.sonata.policy import SonataBuyer, SonataHubManager, SonataReader
from app.services.sonata.rules import (
    BASE,
    ObservedImpact,
    SonataEventType,
    SonataPriority,
    SonataSeverity,
    SonataStatus,
    SonataTicketType,
)

ABOUT = """MEF 124 (Sonata) Trouble Ticket and Incident Management v4 over the same tickets as
`/v1/tickets` and TMF621 (one id on every face) and the network incidents of `/v1/incidents`.
A buyer is a `carrier` API client; `buyerId` (an enterprise id) is needed only when the caller
acts for several enterprises; `sellerId`, if sent, must be `carrierdesk`. Errors take the
spec's shape (`code`, `reason`, `message`; a 422 is an array naming `propertyPath`). Hub
notifications go to the callback + `/mefApi/sonata/troubleTicketNotification/v2/listener/`
+ the event type, signed as every webhook is: """ + ", ".join(
    f"`{t.value}`" for t in SonataEventType
)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": errors.SonataError,
        "description": "Bad request (invalidQuery, invalidBody); a NUL character in the URL, "
        "refused before any route is chosen, keeps Carrier Desk's RFC 9457 problem",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    },
    401: {"model": errors.SonataError, "description": "Unauthorized"},
    403: {"model": errors.SonataError, "description": "Forbidden (accessDenied)"},
    404: {"model": errors.SonataError, "description": "Not found"},
    409: {"model": errors.SonataError, "description": "Conflict: not in a state for this"},
    422: {
        "model": list[errors.SonataError422],
        "description": "Unprocessable entity; a NUL character in a string, refused where it would "
        "be stored, keeps Carrier Desk's RFC 9457 problem",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    },
}


class SonataRoute(APIRoute):
    """Errors on this face take the spec's shape, whoever raised them."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def sonata_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                status, body = errors.of_validation(exc.errors())
            except Problem as exc:
                status, body = errors.of_problem(exc)
                return JSONResponse(body, status_code=status, headers=exc.headers)
            except StarletteHTTPException as exc:
                status, body = errors.of_status(exc.status_code, str(exc.detail))
            return JSONResponse(body, status_code=status)

        return sonata_handler


router = APIRouter(
    prefix=BASE,
    tags=["MEF Sonata trouble tickets"],
    route_class=SonataRoute,
    responses=ERRORS,
)

BuyerId = Annotated[
    str | None,
    Query(
        max_length=100,
        description="The buyer (an enterprise id): only when the caller acts for several",
    ),
]
SellerId = Annotated[str | None, Query(max_length=100, description="`carrierdesk` or absent")]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=500)]
Text = Annotated[str | None, Query(max_length=200)]


def _date(name: str) -> Any:
    return Query(alias=name, description=f"`{name}`: RFC 3339 date-time")


def _counted(response: Response, items: list[Any], total: int) -> list[Any]:
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Result-Count"] = str(len(items))
    return items


@router.get(
    "/troubleTicket",
    summary="List trouble tickets (the spec's filters, offset and limit)",
    description=ABOUT,
    response_model=list[schemas.SonataTroubleTicket],
    response_model_exclude_none=True,
    response_model_by_alias=True,
)
async def list_trouble_tickets(
    request: Request,
    response: Response,
    caller: SonataReader,
    session: SessionDep,
    buyerId: BuyerId = None,
    sellerId: SellerId = None,
    offset: Offset = 0,
    limit: Limit = 20,
    externalId: Text = None,
    priority: SonataPriority | None = None,
    sellerPriority: SonataPriority | None = None,
    severity: SonataSeverity | None = None,
    sellerSeverity: SonataSeverity | None = None,
    ticketType: SonataTicketType | None = None,
    status: SonataStatus | None = None,
    observedImpact: ObservedImpact | None = None,
    relatedEntityId: Text = None,
    relatedEntityType: Text = None,
    creation_gt: Annotated[Instant | None, _date("creationDate.gt")] = None,
    creation_lt: Annotated[Instant | None, _date("creationDate.lt")] = None,
    expected_gt: Annotated[Instant | None, _date("expectedResolutionDate.gt")] = None,
    expected_lt: Annotated[Instant | None, _date("expectedResolutionDate.lt")] = None,
    resolution_gt: Annotated[Instant | None, _date("resolutionDate.gt")] = None,
    resolution_lt: Annotated[Instant | None, _date("resolutionDate.lt")] = None,
) -> Any:
    given = errors.known_query(request, reads.TICKET_FILTERS)
    buyer = reads.buyer_of(caller, buyerId, sellerId)
    items, total = await reads.list_tickets(session, caller, given, buyer, offset, limit)
    return _counted(response, items, total)


@router.post(
    "/troubleTicket",
    status_code=201,
    summary="Create a trouble ticket",
    description=ABOUT,
    response_model=schemas.SonataTroubleTicket,
    response_model_exclude_none=True,
    response_model_by_alias=True,
)
async def create_trouble_ticket(
    payload: schemas.SonataTroubleTicketCreate,
    caller: SonataBuyer,
    write: Write,
    claim: Idempotency,
    buyerId: BuyerId = None,
    sellerId: SellerId = None,
) -> Any:
    buyer = reads.buyer_of(caller, buyerId, sellerId)
    ticket = await service.create_ticket(write.session, caller, write.clock, claim, payload, buyer)
    write.response.headers["Location"] = ticket["href"]
    return ticket


@router.get(
    "/troubleTicket/{id}",
    summary="Retrieve a trouble ticket",
    response_model=schemas.SonataTroubleTicket,
    response_model_exclude_none=True,
    response_model_by_alias=True,
)
async def get_trouble_ticket(
    id: str,
    caller: SonataReader,
    session: SessionDep,
    buyerId: BuyerId = None,
    sellerId: SellerId = None,
) -> Any:
    buyer = reads.buyer_of(caller, buyerId, sellerId)
    return await reads.get_ticket(session, caller, id, buyer)


@router.patch(
    "/troubleTicket/{id}",
    summary="Update a trouble ticket (the buyer's attributes; notes are added)",
    response_model=schemas.SonataTroubleTicket,
    response_model_exclude_none=True,
    response_model_by_alias=True,
)
async def patch_trouble_ticket(
    id: str,
    payload: schemas.SonataTroubleTicketUpdate,
    caller: SonataBuyer,
    write: Write,
    buyerId: BuyerId = None,
    sellerId: SellerId = None,
) -> Any:
    buyer = reads.buyer_of(caller, buyerId, sellerId)
    return await service.patch_ticket(write.session, caller, write.clock, id, payload, buyer)


TASKS = {
    "cancel": ("Cancel a trouble ticket", service.cancel_ticket),
    "close": ("Confirm the resolution: close a resolved ticket", service.close_ticket),
    "reopen": ("The issue is still observed: reopen a resolved ticket", service.reopen_ticket),
}


def _task_route(task: str) -> None:
    summary, use_case = TASKS[task]

    async def run_task(
        id: str,
        caller: SonataBuyer,
        write: Write,
        buyerId: BuyerId = None,
        sellerId: SellerId = None,
    ) -> Response:
        buyer = reads.buyer_of(caller, buyerId, sellerId)
        await use_case(write.session, caller, write.clock, id, buyer)
        return Response(status_code=204)

    run_task.__name__ = f"{task}_trouble_ticket"
    router.add_api_route(
        f"/troubleTicket/{{id}}/{task}",
        run_task,
        methods=["POST"],
        status_code=204,
        summary=summary,
        response_class=Response,
        description="Allowed from the statuses `TASK_FROM` lists (`docs/SONATA.md`); from any "
        "other, 409 `conflict` and nothing changes.",
    )


for _task in TASKS:
    _task_route(_task)


@router.get(
    "/incident",
    summary="List incidents affecting the buyer's products",
    response_model=list[schemas.SonataIncident],
    response_model_exclude_none=True,
    response_model_by_alias=True,
)
async def list_incidents(
    request: Request,
    response: Response,
    caller: SonataReader,
    session: SessionDep,
    buyerId: BuyerId = None,
    sellerId: SellerId = None,
    offset: Offset = 0,
    limit: Limit = 20,
    priority: SonataPriority | None = None,
    severity: SonataSeverity | None = None,
    impact: ObservedImpact | None = None,
    incidentType: Text = None,
    status: Text = None,
    relatedEntityId: Text = None,
    relatedEntityType: Text = None,
    creation_gt: Annotated[Instant | None, _date("creationDate.gt")] = None,
    creation_lt: Annotated[Instant | None, _date("creationDate.lt")] = None,
    start_gt: Annotated[Instant | None, _date("situationStartDate.gt")] = None,
    start_lt: Annotated[Instant | None, _date("situationStartDate.lt")] = None,
    expected_gt: Annotated[Instant | None, _date("expectedClosedDate.gt")] = None,
    expected_lt: Annotated[Instant | None, _date("expectedClosedDate.lt")] = None,
    closed_gt: Annotated[Instant | None, _date("closedDate.gt")] = None,
    closed_lt: Annotated[Instant | None, _date("closedDate.lt")] = None,
) -> Any:
    given = errors.known_query(request, incidents.INCIDENT_FILTERS)
    buyer = reads.buyer_of(caller, buyerId, sellerId)
    items, total = await incidents.list_incidents(session, caller, given, buyer, offset, limit)
    return _counted(response, items, total)


@router.get(
    "/incident/{id}",
    summary="Retrieve an incident (with the buyer's own products and tickets only)",
    response_model=schemas.SonataIncident,
    response_model_exclude_none=True,
    response_model_by_alias=True,
)
async def get_incident(
    id: str,
    caller: SonataReader,
    session: SessionDep,
    buyerId: BuyerId = None,
    sellerId: SellerId = None,
) -> Any:
    buyer = reads.buyer_of(caller, buyerId, sellerId)
    return await incidents.get_incident(session, caller, id, buyer)


@router.post("/hub", status_code=201, summary="Register a listener for Sonata notifications")
async def register_listener(
    payload: schemas.SonataEventSubscriptionInput,
    caller: SonataHubManager,
    callback: hubs.CheckedHubCallback,
    write: Write,
    claim: Idempotency,
    buyerId: BuyerId = None,
    sellerId: SellerId = None,
) -> schemas.SonataEventSubscription:
    buyer = reads.buyer_of(caller, buyerId, sellerId)
    return await hubs.register_hub(
        write.session, caller, write.clock, claim, payload, callback, buyer
    )


@router.get("/hub/{id}", summary="Retrieve a listener")
async def retrieve_listener(
    id: str,
    caller: SonataHubManager,
    session: SessionDep,
    buyerId: BuyerId = None,
    sellerId: SellerId = None,
) -> schemas.SonataEventSubscription:
    buyer = reads.buyer_of(caller, buyerId, sellerId)
    return await hubs.get_hub(session, caller, id, buyer)


@router.delete("/hub/{id}", status_code=204, summary="Unregister a listener")
async def unregister_listener(
    id: str,
    caller: SonataHubManager,
    write: Write,
    buyerId: BuyerId = None,
    sellerId: SellerId = None,
) -> None:
    buyer = reads.buyer_of(caller, buyerId, sellerId)
    await hubs.unregister_hub(write.session, caller, write.clock, id, buyer)
