"""Live events: server-sent events of the caller's tenant, resumable with Last-Event-ID."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from sse_starlette.sse import EventSourceResponse

from app.core.deps import AnyCaller, SessionDep
from app.services import event_stream as service

router = APIRouter(prefix="/v1/events", tags=["events"])


@router.get(
    "/stream",
    summary="Server-sent events of the caller's enterprises",
    description="Each event is sent as `id: <events.id>`, `event: <type>`, `data: {id, type, "
    "at, actor, enterprise_id, subject_type, subject_id, data}`. Reconnect with "
    "`Last-Event-ID` (browsers do it by themselves) to receive exactly what was missed; "
    "without it the stream starts with what happens next, or after `after`.",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An endless stream"}},
)
async def stream(
    request: Request,
    caller: AnyCaller,
    session: SessionDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
    after: Annotated[
        int | None, Query(ge=0, le=2**62, description="Start after this event id")
    ] = None,
    max_seconds: Annotated[
        int,
        Query(
            ge=1,
            le=3600,
            description="Close the stream after this long; reconnect with Last-Event-ID",
        ),
    ] = 900,
) -> EventSourceResponse:
    resume = service.parse_last_event_id(last_event_id)
    start = await service.starting_point(session, caller, resume if resume is not None else after)
    events = service.stream_events(
        request.app.state.sessionmaker, caller, start, request.is_disconnected, max_seconds
    )
    return EventSourceResponse(events, ping=15)
