"""Events that commit out of id order are neither skipped nor reordered, on any channel.

Event ids are drawn before commit: a transaction that drew a lower id can commit after one that
drew a higher id. Two real connections do just that, while a real SSE client reads the stream
and the worker's fan-out and webhook sender serve a real receiver and a TMF621 hub listener.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.event_watermark import EventWatermark
from app.core.events import record_event
from app.core.roles import Role
from app.core.settings import Settings
from app.models import OutboxMessage
from app.services.delivery.dispatcher import WebhookDispatcher, webhook_client
from app.services.delivery.fanout import fan_out_all
from app.services.tickets.events import TicketEventType
from tests.support.events import ticket_event
from tests.support.live_app import live_app
from tests.support.servers import eventually, http_receiver, serve
from tests.support.streams import open_stream
from tests.support.tickets import make_desk
from tests.support.workers import poll
from tests.support.world import World

TMF = "/tmf-api/troubleTicket/v4"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        env="test",
        database_url="postgresql+asyncpg://unused/unused",
        webhook_allowed_networks=["127.0.0.1/32"],  # the receivers; the guard is strict
        stream_poll_seconds=0.05,
    )


@pytest.fixture
async def live_world(fresh_database: str, settings: Settings) -> AsyncIterator[tuple[World, Any]]:
    async with live_app(fresh_database, settings) as world_and_app:
        yield world_and_app


async def _record(
    maker: async_sessionmaker[AsyncSession], world: World, ticket: dict[str, Any], number: str
) -> tuple[AsyncSession, int]:
    """An event on the ticket in a transaction left open: the caller commits it."""
    session = maker()
    event_id = await record_event(
        session,
        ticket_event(TicketEventType.updated, number=number),
        subject_id=uuid.UUID(ticket["id"]),
        at=world.clock.now(),
        actor="test",
        enterprise_id=uuid.UUID(ticket["enterprise_id"]),
    )
    return session, event_id


async def test_an_event_that_commits_after_a_later_numbered_one_arrives_first_everywhere(
    live_world: tuple[World, Any], settings: Settings
) -> None:
    world, app = live_world
    desk = await make_desk(world)
    admin = await world.api_client(Role.customer_admin, desk.enterprise["id"])
    carrier = await world.api_client(Role.carrier, desk.enterprise["id"])
    watermark = EventWatermark()  # the worker's, kept across its looks

    async with (
        http_receiver() as receiver,
        http_receiver() as hub_listener,
        webhook_client() as http,
        serve(app) as port,
    ):
        hook = await world.client.post(
            "/v1/webhooks", json={"url": receiver.url, "events": ["ticket.*"]}, headers=admin
        )
        assert hook.status_code == 201, hook.text
        hub = await world.client.post(
            f"{TMF}/hub", json={"callback": hub_listener.url}, headers=carrier
        )
        assert hub.status_code == 201, hub.text
        ticket = await desk.open()
        dispatcher = WebhookDispatcher(world.sessionmaker, world.clock, settings, http)

        async def worker_looks() -> None:
            async with world.sessionmaker() as session:
                await fan_out_all(session, world.clock, watermark=watermark)
            await dispatcher.run_until_idle()

        await worker_looks()
        await eventually(lambda: len(receiver.requests) == 1 and len(hub_listener.requests) == 1)
        receiver.requests.clear()
        hub_listener.requests.clear()

        base = f"http://127.0.0.1:{port}"
        async with open_stream(base, desk.customer) as stream:
            assert stream.status == 200
            first, first_id = await _record(world.sessionmaker, world, ticket, "first")
            second, second_id = await _record(world.sessionmaker, world, ticket, "second")
            assert first_id < second_id
            await second.commit()  # the higher id commits while the lower is still open
            await second.close()

            # Every reader looks while the first transaction is still open.
            await worker_looks()
            hub_state = getattr(app.state, "stream_hub", None)
            await eventually(
                lambda: (
                    bool(stream.events)
                    or (
                        hub_state is not None
                        and any(drawn >= second_id for drawn, _ in hub_state.watermark.waiting)
                    )
                )
            )
            assert stream.ids() == []
            assert receiver.requests == []
            assert hub_listener.requests == []
            async with world.sessionmaker() as session:
                pending = (
                    await session.execute(
                        select(OutboxMessage.event_id).where(OutboxMessage.processed_at.is_(None))
                    )
                ).scalars()
                assert list(pending) == [second_id]  # waits, not skipped

            await first.commit()
            await first.close()

            async def everything_arrived() -> bool:
                await worker_looks()
                return (
                    len(stream.events) == 2
                    and len(receiver.requests) == 2
                    and len(hub_listener.requests) == 2
                )

            await poll(everything_arrived, within=20, interval=0.05)

    assert stream.ids() == [first_id, second_id]
    assert [r.json()["data"]["event_id"] for r in receiver.requests] == [first_id, second_id]
    assert [r.json()["eventId"] for r in hub_listener.requests] == [
        str(first_id),
        str(second_id),
    ]


async def test_the_watermark_waits_for_the_newest_transaction_still_running(
    live_world: tuple[World, Any],
) -> None:
    # The newest transaction of all, still open: no snapshot's `xmax` reaches past it, so a
    # watermark built on snapshots would pass its event; this one waits until it commits.
    world, _ = live_world
    desk = await make_desk(world)
    ticket = await desk.open()
    watermark = EventWatermark()
    async with world.sessionmaker() as session:
        await watermark.settle(session)
        before = watermark.settled
        open_one, event_id = await _record(world.sessionmaker, world, ticket, "open")
        for _ in range(3):
            assert await watermark.advance(session) == before < event_id
        await open_one.commit()
        await open_one.close()
        assert await watermark.settle(session) >= event_id
