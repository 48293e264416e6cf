"""Sonata hubs: a buyer's listener, an outbound endpoint of the delivery machinery (kind
`sonata`), signed and retried as every webhook is. What it hears: `hub_events.py`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import Clock
from app.core.deps import SettingsDep
from app.core.errors import field_error
from app.core.idempotency import IdempotencyClaim, commit_creation
from app.core.tenancy import Caller, one_or_404, visible_to
from app.models import WebhookEndpoint
from app.services.delivery.webhooks import LookedUpDestination, look_up_destination, new_endpoint
from app.services.sonata.reads import acting_buyer, path_id
from app.services.sonata.rules import subscribed_types
from app.services.sonata.schemas import SonataEventSubscription, SonataEventSubscriptionInput

HUB_KIND = "sonata"


async def checked_hub_callback(
    payload: SonataEventSubscriptionInput, settings: SettingsDep
) -> LookedUpDestination:
    return await look_up_destination(payload.callback, settings)


# Declared before the route's `claim: Idempotency`, which opens the transaction.
CheckedHubCallback = Annotated[LookedUpDestination, Depends(checked_hub_callback)]


async def register_hub(
    session: AsyncSession,
    caller: Caller,
    clock: Clock,
    claim: IdempotencyClaim | None,
    payload: SonataEventSubscriptionInput,
    callback: LookedUpDestination,
    buyer: uuid.UUID | None,
) -> SonataEventSubscription:
    enterprise_id = acting_buyer(caller, buyer)
    try:
        events = subscribed_types(payload.query)
    except ValueError as exc:
        raise field_error("query", str(exc)) from None
    hub = new_endpoint(
        caller,
        clock.now(),
        enterprise_id=enterprise_id,
        kind=HUB_KIND,
        url=callback.accepted("callback").rstrip("/"),
        events=events,
        description=payload.query,
    )
    session.add(hub)
    await session.flush()
    answer = SonataEventSubscription(id=str(hub.id), callback=payload.callback, query=payload.query)
    await commit_creation(session, claim, answer)
    return answer


async def _hub(
    session: AsyncSession, caller: Caller, hub_id: str, buyer: uuid.UUID | None, *, lock: bool
) -> WebhookEndpoint:
    key = path_id(hub_id, "hub")
    stmt = visible_to(select(WebhookEndpoint), caller, WebhookEndpoint.enterprise_id).where(
        WebhookEndpoint.id == key,
        WebhookEndpoint.kind == HUB_KIND,
        WebhookEndpoint.status != "deleted",
    )
    if buyer is not None:
        stmt = stmt.where(WebhookEndpoint.enterprise_id == buyer)
    return await one_or_404(session, stmt, "hub", hub_id, lock=lock)


async def get_hub(
    session: AsyncSession, caller: Caller, hub_id: str, buyer: uuid.UUID | None
) -> SonataEventSubscription:
    hub = await _hub(session, caller, hub_id, buyer, lock=False)
    return SonataEventSubscription(id=str(hub.id), callback=hub.url, query=hub.description)


async def unregister_hub(
    session: AsyncSession, caller: Caller, clock: Clock, hub_id: str, buyer: uuid.UUID | None
) -> None:
    hub = await _hub(session, caller, hub_id, buyer, lock=True)
    hub.status = "deleted"
    hub.updated_at = clock.now()
    hub.version += 1
    await session.commit()
