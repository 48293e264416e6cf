"""One bad receiver costs only its own queue: real receivers on loopback that drip, hang or
flood, beside healthy ones, sent to by the worker's dispatcher with the production HTTP
client and the strict address guard (loopback allowed the way an operator would)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from app.core.clock import FrozenClock
from app.core.roles import Role
from app.core.settings import Settings
from app.models import WebhookDelivery
from app.services.delivery.dispatcher import WebhookDispatcher, webhook_client
from tests.support.bad_receivers import FLOOD_BYTES, Gauge, bad_receiver, drip, flood, hang
from tests.support.servers import Receiver, http_receiver
from tests.support.settings import LOOPBACK, suite_settings
from tests.support.world import World
from tests.test_webhooks import happen, register

SLOTS = 4


@pytest.fixture
def settings() -> Settings:
    return suite_settings(
        webhook_allowed_networks=LOOPBACK,  # the receivers; the guard is strict
        webhook_attempt_seconds=1.0,
        webhook_lease_seconds=2.0,
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC))


async def tenant_with_hook(world: World, name: str, url: str) -> tuple[str, dict[str, Any]]:
    enterprise = await world.enterprise(name, "EC")
    admin = await world.api_client(Role.customer_admin, enterprise["id"])
    hook = await register(world, admin, url)
    return enterprise["id"], hook


async def pending(world: World, hook_id: str) -> list[WebhookDelivery]:
    async with world.sessionmaker() as session:
        rows = await session.execute(
            select(WebhookDelivery).where(
                WebhookDelivery.endpoint_id == uuid.UUID(hook_id),
                WebhookDelivery.status == "pending",
            )
        )
        return list(rows.scalars())


@pytest.fixture
async def dispatcher(world: World, settings: Settings) -> AsyncIterator[WebhookDispatcher]:
    async with webhook_client() as http:
        yield WebhookDispatcher(
            world.sessionmaker, world.clock, settings, http, max_in_flight=SLOTS
        )


async def test_dripping_and_hanging_receivers_cost_only_their_own_queues(
    world: World, dispatcher: WebhookDispatcher
) -> None:
    gauge = Gauge()
    async with AsyncExitStack() as stack:
        # The bad endpoints' events are the oldest: they are claimed first, filling every slot.
        drips = [await stack.enter_async_context(bad_receiver(drip, gauge)) for _ in range(4)]
        hangs = [await stack.enter_async_context(bad_receiver(hang, gauge)) for _ in range(2)]
        bad = []
        for n, receiver in enumerate([*drips, *hangs]):
            enterprise, hook = await tenant_with_hook(world, f"Bad {n}", receiver.url)
            await happen(world.sessionmaker, world.clock, enterprise)
            bad.append(hook)
        healthy = [await stack.enter_async_context(http_receiver(Receiver())) for _ in range(3)]
        good = [
            (await tenant_with_hook(world, f"Good {n}", receiver.url))[0]
            for n, receiver in enumerate(healthy)
        ]
        sent: dict[int, list[int]] = {n: [] for n in range(len(healthy))}

        async def new_events() -> None:
            for n, enterprise in enumerate(good):
                for _ in range(3):
                    sent[n].append(await happen(world.sessionmaker, world.clock, enterprise))

        def arrived() -> bool:
            return all(
                [r.json()["data"]["event_id"] for r in receiver.requests] == sent[n]
                for n, receiver in enumerate(healthy)
            )

        await new_events()

        # Every healthy endpoint gets its events, in order, while the bad ones misbehave.
        await asyncio.wait_for(dispatcher.run_until_idle(), timeout=60)
        assert arrived()
        # The bad ones were cut off (the drip had sent a few of its 600 bytes) and wait
        # for their retry, their queues intact.
        assert all(r.requests == 1 for r in [*drips, *hangs])
        assert all(r.answer_bytes_sent < 10 for r in drips), [r.answer_bytes_sent for r in drips]
        for hook in bad:
            (waiting,) = await pending(world, hook["id"])
            assert waiting.attempts == 1
            assert waiting.last_error == "timed out"
            assert waiting.next_attempt_at > world.clock.now()

        # Later the bad ones are retried beside new healthy events. Known to fail now, they
        # hold at most half of the slots: the healthy endpoints keep the rest.
        world.clock.advance(timedelta(seconds=5))
        await new_events()
        gauge.most = 0
        await asyncio.wait_for(dispatcher.run_until_idle(), timeout=60)
        assert arrived()
        assert all(r.requests == 2 for r in [*drips, *hangs])
        assert gauge.most <= SLOTS // 2


async def test_an_answer_far_too_long_is_read_no_further_than_the_cap(
    world: World, dispatcher: WebhookDispatcher
) -> None:
    async with bad_receiver(flood) as flooding:
        enterprise, hook = await tenant_with_hook(world, "Flood", flooding.url)
        await happen(world.sessionmaker, world.clock, enterprise)
        await asyncio.wait_for(dispatcher.run_until_idle(), timeout=60)
        assert flooding.requests == 1
        assert await pending(world, hook["id"]) == []  # a 200 is a success, however long
        assert flooding.answer_bytes_sent < FLOOD_BYTES // 4
