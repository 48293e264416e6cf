"""TMF621 Trouble Ticket v4 for carriers' OSS: TM Forum's shapes over Carrier Desk's tickets.

Status and severity mapping tables: `app/services/tmf621/rules.py` (and this tag's description).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.deps import SessionDep, Write
from app.core.errors import PROBLEM_JSON, Problem
from app.core.idempotency import Idempotency
from app.services.tmf621 import reads, schemas, service
from app.services.tmf621.policy import HubManager, TroubleTicketCaller
from app.services.tmf621.rules import TMF_EVENT_TYPES

MAPPING = """TMF621 v4 over the same tickets as `/v1/tickets`.

**Status**: reception, registration → `acknowledged`; diagnosis, dispatch, field_repair,
verification → `inProgress`; waiting for the customer → `pending`; stability, closure →
`resolved`; closed → `closed`; cancelled → `cancelled`.

**Severity** (free text, kept as given, matched without case or spaces): critical, urgent,
blocker, emergency, 1, sev1, p1 → `critical`; major, high, serious, 2, sev2, p2 → `major`;
minor, medium, moderate, low, normal, warning, 3–5, sev3–5, p3–p5 → `minor`; anything else
is refused (400). `externalId` is the carrier's ticket number; `relatedEntity` names the
affected service (`@referredType` `Service`, its id or code).

**Hub events** (TMF event envelope, Standard Webhooks headers, same retries as webhooks):
""" + ", ".join(f"`{t}`" for t in TMF_EVENT_TYPES)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "model": schemas.TmfError,
        "description": "Bad request; a URL holding a NUL character is refused before routing, "
        "as an RFC 9457 problem",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    },
    401: {"model": schemas.TmfError, "description": "Not signed in"},
    403: {"model": schemas.TmfError, "description": "Not allowed"},
    404: {"model": schemas.TmfError, "description": "Not found"},
    409: {"model": schemas.TmfError, "description": "Conflict"},
}


def tmf_error(
    status: int, reason: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"code": str(status), "reason": reason, "message": message, "status": str(status)}
    body["@type"] = "Error"
    return JSONResponse(body, status_code=status, headers=headers)


class TmfRoute(APIRoute):
    """Errors on this face take TMF's shape; a validation error is a 400, as TMF has it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def tmf_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                fields = sorted(
                    {".".join(str(p) for p in e.get("loc", ())[1:]) or "body" for e in exc.errors()}
                )
                details = "; ".join(
                    f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg')}"
                    for e in exc.errors()
                )
                return tmf_error(400, f"invalid {', '.join(fields)}", details)
            except Problem as exc:
                status = 400 if exc.status == 422 else exc.status
                return tmf_error(status, exc.title, exc.detail, exc.headers)
            except StarletteHTTPException as exc:
                # A body that is not JSON at all fails before validation.
                return tmf_error(
                    exc.status_code, "Bad request", str(exc.detail), dict(exc.headers or {})
                )

        return tmf_handler


router = APIRouter(
    prefix="/tmf-api/troubleTicket/v4",
    tags=["TMF621 trouble tickets"],
    route_class=TmfRoute,
    responses=ERRORS,
)

Fields = Annotated[
    str | None, Query(max_length=1000, description="Comma-separated attributes to return")
]
Filter = Annotated[str | None, Query(max_length=200)]


@router.get(
    "/troubleTicket",
    summary="List trouble tickets (fields, offset, limit, equality filters)",
    description=MAPPING,
    response_model=list[schemas.TroubleTicket],
    response_model_exclude_unset=True,
)
async def list_trouble_tickets(
    request: Request,
    response: Response,
    caller: TroubleTicketCaller,
    session: SessionDep,
    fields: Fields = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    id: Filter = None,
    externalId: Filter = None,
    severity: Filter = None,
    status: Filter = None,
    ticketType: Filter = None,
    priority: Filter = None,
    name: Filter = None,
) -> Any:
    known = {"fields", "offset", "limit", *reads.FILTERABLE}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        allowed = ", ".join(reads.FILTERABLE)
        return tmf_error(400, f"unknown filter {unknown[0]}", f"filters: {allowed}")
    given = {
        "id": id,
        "externalId": externalId,
        "severity": severity,
        "status": status,
        "ticketType": ticketType,
        "priority": priority,
        "name": name,
    }
    filters = {k: v for k, v in given.items() if v is not None}
    items, total = await reads.list_tickets(session, caller, filters, fields, offset, limit)
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Result-Count"] = str(len(items))
    return items


@router.get(
    "/troubleTicket/{id}",
    summary="Retrieve a trouble ticket",
    response_model=schemas.TroubleTicket,
    response_model_exclude_unset=True,
)
async def get_trouble_ticket(
    id: str, caller: TroubleTicketCaller, session: SessionDep, fields: Fields = None
) -> Any:
    return await reads.get_ticket(session, caller, id, fields)


@router.post(
    "/troubleTicket",
    status_code=201,
    summary="Create a trouble ticket",
    description=MAPPING,
    response_model=schemas.TroubleTicket,
)
async def create_trouble_ticket(
    payload: schemas.TroubleTicketCreate,
    caller: TroubleTicketCaller,
    write: Write,
    claim: Idempotency,
) -> Any:
    ticket = await service.create_ticket(write.session, caller, write.clock, claim, payload)
    write.response.headers["Location"] = ticket["href"]
    return ticket


@router.patch(
    "/troubleTicket/{id}",
    summary="Update a trouble ticket (application/merge-patch+json)",
    response_model=schemas.TroubleTicket,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/merge-patch+json": {
                    "schema": {"$ref": "#/components/schemas/TroubleTicketUpdate"}
                }
            },
        }
    },
)
async def patch_trouble_ticket(
    id: str,
    payload: Annotated[
        schemas.TroubleTicketUpdate, Body(media_type="application/merge-patch+json")
    ],
    caller: TroubleTicketCaller,
    write: Write,
) -> Any:
    return await service.patch_ticket(write.session, caller, write.clock, id, payload)


@router.post("/hub", status_code=201, summary="Register a listener for TMF621 events")
async def register_listener(
    payload: schemas.EventSubscriptionInput,
    caller: HubManager,
    callback: service.CheckedHubCallback,
    write: Write,
    claim: Idempotency,
) -> schemas.EventSubscription:
    return await service.register_hub(write.session, caller, write.clock, claim, payload, callback)


@router.delete("/hub/{id}", status_code=204, summary="Unregister a listener")
async def unregister_listener(id: str, caller: HubManager, write: Write) -> None:
    await service.unregister_hub(write.session, caller, write.clock, id)
