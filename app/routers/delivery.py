"""Delivery: Standard Webhooks endpoints and their delivery log, the mail log, and live events
(server-sent, resumable with Last-Event-ID)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sse_starlette.sse import EventSourceResponse

from app.core.deps import CallerNowDep, GuardedWrite, SessionDep, SettingsDep, Write
from app.core.etag import with_etag
from app.core.event_registry import MAX_EVENT_ID
from app.core.idempotency import SHOWN_ONCE_RETRY, Idempotency
from app.core.pagination import Page, Paging
from app.services.delivery import event_stream, mail_log, schemas, webhooks
from app.services.delivery.policy import DeliveryReader, WebhookManager
from app.services.delivery.stream_hub import hub_of

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

SIGNING = (
    "Each delivery is a POST following the Standard Webhooks specification: headers "
    "`webhook-id` (the same on every retry of one event), `webhook-timestamp` and "
    "`webhook-signature` (`v1,<base64 HMAC-SHA256>`; two signatures, space-separated, while "
    "a rotated secret overlaps), body `{type, timestamp, data}`. A 2xx answer within 10 s is "
    "a success; anything else is retried after 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, "
    "4 h, 8 h and 8 h, then the delivery is failed. Per endpoint, events arrive in order. An "
    "endpoint failing for 3 days is disabled and its owner mailed."
)


@router.post(
    "",
    status_code=201,
    summary="Register a webhook endpoint (the secret is shown once)",
    description=f"{SIGNING}\n\n{SHOWN_ONCE_RETRY}",
)
async def create_webhook(
    payload: schemas.WebhookCreate,
    caller: WebhookManager,
    url: webhooks.CheckedWebhookUrl,
    write: Write,
    claim: Idempotency,
) -> schemas.WebhookCreated:
    return await webhooks.create_webhook(write.session, caller, write.clock, claim, payload, url)


@router.get("", summary="Webhook endpoints of the caller's enterprises")
async def list_webhooks(
    caller: DeliveryReader, session: SessionDep, paging: Paging
) -> Page[schemas.WebhookRead]:
    return await webhooks.list_webhooks(session, caller, paging)


@router.get("/{webhook_id}", summary="One webhook endpoint")
async def get_webhook(
    webhook_id: uuid.UUID, caller: DeliveryReader, session: SessionDep, response: Response
) -> schemas.WebhookRead:
    endpoint = await webhooks.get_webhook(session, caller, webhook_id)
    return schemas.WebhookRead.model_validate(with_etag(response, endpoint))


@router.patch("/{webhook_id}", summary="Change or re-enable a webhook endpoint")
async def update_webhook(
    webhook_id: uuid.UUID,
    payload: schemas.WebhookUpdate,
    caller: WebhookManager,
    write: GuardedWrite,
    settings: SettingsDep,
) -> schemas.WebhookRead:
    endpoint = await write.answer(
        webhooks.update_webhook, caller, settings, webhook_id, payload, write.if_match
    )
    return schemas.WebhookRead.model_validate(endpoint)


@router.delete("/{webhook_id}", status_code=204, summary="Delete a webhook endpoint")
async def delete_webhook(webhook_id: uuid.UUID, caller: WebhookManager, write: Write) -> None:
    await webhooks.delete_webhook(write.session, caller, write.clock, webhook_id)


@router.post(
    "/{webhook_id}/rotate-secret",
    summary="Rotate the signing secret, keeping the old one signing for an overlap period",
)
async def rotate_secret(
    webhook_id: uuid.UUID,
    payload: schemas.SecretRotation,
    caller: WebhookManager,
    write: Write,
) -> schemas.SecretRotated:
    return await webhooks.rotate_secret(write.session, caller, write.clock, webhook_id, payload)


@router.get(
    "/{webhook_id}/deliveries",
    summary="The delivery log: every attempt, oldest first",
)
async def list_deliveries(
    webhook_id: uuid.UUID, caller: DeliveryReader, session: SessionDep, paging: Paging
) -> Page[schemas.DeliveryAttemptRead]:
    return await webhooks.list_attempts(session, caller, webhook_id, paging)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=202,
    summary="Send a delivery again (same `webhook-id`); an attempt's id names its delivery",
)
async def replay_delivery(
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
    caller: WebhookManager,
    write: Write,
) -> schemas.DeliveryRead:
    return await webhooks.replay_delivery(
        write.session, caller, write.clock, webhook_id, delivery_id
    )


mail_router = APIRouter(prefix="/v1/mail-messages", tags=["notifications"])


@mail_router.get("", summary="The mail log: each notification, its status and why it was not sent")
async def list_mail(
    caller: DeliveryReader,
    session: SessionDep,
    paging: Paging,
    status: schemas.MailStatus | None = None,
    event_id: Annotated[int | None, Query(ge=1, le=MAX_EVENT_ID)] = None,
) -> Page[schemas.MailRead]:
    return await mail_log.list_mail(session, caller, paging, status, event_id)


events_router = APIRouter(prefix="/v1/events", tags=["events"])


@events_router.get(
    "/stream",
    summary="Server-sent events of the caller's enterprises",
    description="Each event is sent as `id: <events.id>`, `event: <type>`, `data: {id, type, "
    "at, actor, enterprise_id, subject_type, subject_id, data}`. Reconnect with "
    "`Last-Event-ID` (browsers do it by themselves) to receive exactly what was missed; "
    "without it the stream starts with what happens next, or after `after`. The stream ends "
    "when the caller's credentials no longer hold (a revoked client, an ended session), "
    "checked every few seconds; a caller may hold a few streams open at once (429 beyond).",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An endless stream"}},
)
async def stream(
    request: Request,
    caller: DeliveryReader,
    session: SessionDep,
    caller_now: CallerNowDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_EVENT_ID, description="Start after this event id")
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
    resume = event_stream.parse_last_event_id(last_event_id)
    events = await event_stream.open_stream(
        session,
        request.app.state.sessionmaker,
        hub_of(request.app.state),
        caller,
        resume if resume is not None else after,
        request.is_disconnected,
        caller_now,
        max_seconds,
    )
    return EventSourceResponse(events, ping=15)
