"""Use cases of webhook endpoints: register, read, change, delete, rotate, log, replay."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends
from sqlalchemy import Select, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.deps import SettingsDep
from app.core.errors import NotFound, field_error
from app.core.etag import check_if_match
from app.core.idempotency import IdempotencyClaim, commit_new_row
from app.core.orm_pages import fetch_page
from app.core.pagination import Page, PageParams
from app.core.row_versions import new_version
from app.core.settings import Settings
from app.core.tenancy import Caller, one_or_404, visible_to
from app.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.services.delivery.addresses import AddressRefused, check_destination
from app.services.delivery.rules import new_webhook_secret
from app.services.delivery.schemas import (
    DeliveryAttemptRead,
    DeliveryRead,
    SecretRotated,
    SecretRotation,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)

STANDARD = "standard"


@dataclass(frozen=True, slots=True)
class LookedUpDestination:
    """A callback resolved and checked ahead of the transaction, its verdict kept for the use
    case: refused there, after the request's other parameters were validated, so a bad header
    is still named as the problem."""

    url: str
    refusal: str | None

    def accepted(self, field: str) -> str:
        if self.refusal is not None:
            raise field_error(field, self.refusal)
        return self.url


async def look_up_destination(url: str, settings: Settings) -> LookedUpDestination:
    """`url` resolved and checked as the operator configured, without raising (see
    `LookedUpDestination`); called from a dependency declared before `claim: Idempotency`."""
    try:
        await check_destination(url, settings)
    except AddressRefused as exc:
        return LookedUpDestination(url, str(exc))
    return LookedUpDestination(url, None)


async def checked_destination(url: str, settings: Settings, field: str = "url") -> str:
    """`url`, resolved and checked as the operator configured (422 naming `field` when
    refused). Registrations call it from a dependency declared before their `claim:
    Idempotency`, which opens the transaction: a slow name server must hold no transaction."""
    return (await look_up_destination(url, settings)).accepted(field)


def new_endpoint(
    caller: Caller,
    now: datetime,
    *,
    enterprise_id: uuid.UUID,
    kind: str,
    url: str,
    events: list[str],
    description: str | None,
    owner_email: str | None = None,
) -> WebhookEndpoint:
    """A new active endpoint with a fresh signing secret: a webhook or a TMF621 hub."""
    return WebhookEndpoint(
        id=uuid.uuid4(),
        enterprise_id=enterprise_id,
        kind=kind,
        url=url,
        events=events,
        description=description,
        owner_email=owner_email,
        secret=new_webhook_secret(),
        status="active",
        created_by=caller.actor,
        created_at=now,
        updated_at=now,
        version=1,
    )


async def checked_webhook_url(payload: WebhookCreate, settings: SettingsDep) -> str:
    """The URL of a registration, resolved and checked before its transaction opens: a slow
    name server must not hold a transaction (or the `Idempotency-Key` lock) open."""
    return await checked_destination(payload.url, settings)


# Declared before the endpoint's `claim: Idempotency`, which opens the transaction.
CheckedWebhookUrl = Annotated[str, Depends(checked_webhook_url)]


async def create_webhook(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    payload: WebhookCreate,
    url: str,
) -> WebhookCreated:
    """Register `payload` at `url`, already checked (`CheckedWebhookUrl`)."""
    enterprise_id = caller.acting_enterprise(payload.enterprise_id)
    endpoint = new_endpoint(
        caller,
        clock.now(),
        enterprise_id=enterprise_id,
        kind=STANDARD,
        url=url,
        events=list(payload.events),
        description=payload.description,
        owner_email=payload.owner_email,
    )
    return await commit_new_row(session, claim, endpoint, _created)


def _created(endpoint: WebhookEndpoint) -> WebhookCreated:
    """The answer to a registration: the endpoint and its signing secret."""
    return WebhookCreated(
        **WebhookRead.model_validate(endpoint).model_dump(), secret=endpoint.secret
    )


def _visible(caller: Caller) -> Select[tuple[WebhookEndpoint]]:
    return visible_to(select(WebhookEndpoint), caller, WebhookEndpoint.enterprise_id).where(
        WebhookEndpoint.kind == STANDARD, WebhookEndpoint.status != "deleted"
    )


async def get_webhook(
    session: AsyncSession, caller: Caller, webhook_id: uuid.UUID, *, lock: bool = False
) -> WebhookEndpoint:
    stmt = _visible(caller).where(WebhookEndpoint.id == webhook_id)
    return await one_or_404(session, stmt, "webhook", webhook_id, lock=lock)


async def list_webhooks(
    session: AsyncSession, caller: Caller, params: PageParams
) -> Page[WebhookRead]:
    items, cursor = await fetch_page(
        session, _visible(caller), params, WebhookEndpoint.updated_at, WebhookEndpoint.id
    )
    return Page(items=[WebhookRead.model_validate(e) for e in items], next_cursor=cursor)


async def update_webhook(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    settings: Settings,
    webhook_id: uuid.UUID,
    payload: WebhookUpdate,
    if_match: str | None,
) -> WebhookEndpoint:
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    # Resolved before the row is locked: no DNS lookup inside a transaction.
    url = await checked_destination(changes["url"], settings) if "url" in changes else None
    endpoint = await get_webhook(session, caller, webhook_id, lock=True)
    check_if_match(if_match, endpoint.version)
    if url is not None:
        endpoint.url = url
    if "events" in changes:
        endpoint.events = list(changes["events"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if "owner_email" in changes:
        endpoint.owner_email = changes["owner_email"]
    if "status" in changes:
        status = str(changes["status"])
        if status == "active" and endpoint.status != "active":
            endpoint.failing_since = None
            endpoint.disabled_reason = None
        elif status == "disabled" and endpoint.status != "disabled":
            endpoint.disabled_reason = f"disabled by {caller.actor}"
        endpoint.status = status
    if changes:
        new_version(endpoint, clock.now())
    await session.commit()
    return endpoint


async def delete_webhook(
    session: AsyncSession, caller: Caller, clock: Clock, webhook_id: uuid.UUID
) -> None:
    # Kept (its delivery log refers to it) but gone: no longer listed, read or called.
    endpoint = await get_webhook(session, caller, webhook_id, lock=True)
    endpoint.status = "deleted"
    new_version(endpoint, clock.now())
    await session.commit()


async def rotate_secret(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    webhook_id: uuid.UUID,
    payload: SecretRotation,
) -> SecretRotated:
    endpoint = await get_webhook(session, caller, webhook_id, lock=True)
    now = clock.now()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + timedelta(seconds=payload.overlap_seconds)
    endpoint.secret = new_webhook_secret()
    new_version(endpoint, now)
    answer = SecretRotated(
        secret=endpoint.secret, previous_secret_expires_at=endpoint.previous_secret_expires_at
    )
    await session.commit()
    return answer


async def list_attempts(
    session: AsyncSession, caller: Caller, webhook_id: uuid.UUID, params: PageParams
) -> Page[DeliveryAttemptRead]:
    await get_webhook(session, caller, webhook_id)
    stmt = visible_to(select(WebhookAttempt), caller, WebhookAttempt.enterprise_id).where(
        WebhookAttempt.endpoint_id == webhook_id
    )
    items, cursor = await fetch_page(
        session, stmt, params, WebhookAttempt.attempted_at, WebhookAttempt.id
    )
    return Page(items=[DeliveryAttemptRead.model_validate(a) for a in items], next_cursor=cursor)


async def replay_delivery(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    webhook_id: uuid.UUID,
    delivery_id: uuid.UUID,
) -> DeliveryRead:
    """Send a delivery again, with its `webhook-id`; `delivery_id` may name one of its attempts."""
    await get_webhook(session, caller, webhook_id)
    attempt_of = select(WebhookAttempt.delivery_id).where(WebhookAttempt.id == delivery_id)
    now = clock.now()
    stmt = (
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == webhook_id,
            or_(WebhookDelivery.id == delivery_id, WebhookDelivery.id.in_(attempt_of)),
        )
        .values(status="pending", attempts=0, next_attempt_at=now, completed_at=None)
        .returning(WebhookDelivery)
    )
    delivery = (await session.execute(stmt)).scalar_one_or_none()
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} not found")
    answer = DeliveryRead.model_validate(delivery)
    await session.commit()
    return answer
