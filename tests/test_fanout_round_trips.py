"""The outbox fan-out stays a few statements per batch, whatever its size: a claim per
enterprise, and one statement for each kind of thing it reads or writes."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.core.events import record_event
from app.core.roles import Role
from app.core.settings import Settings
from app.services.delivery.fanout import fan_out_all
from app.services.tickets.events import TicketNoteAdded
from app.services.tickets.schemas import NoteVisibility
from tests.support.round_trips import statements
from tests.support.settings import LOOPBACK, suite_settings
from tests.support.world import World


@pytest.fixture
def settings() -> Settings:
    return suite_settings(
        webhook_allowed_networks=LOOPBACK,  # the endpoints' address; nothing is sent
    )


async def _public_notes(
    world: World, session: AsyncSession, enterprises: list[uuid.UUID], each: int
) -> None:
    for enterprise_id in enterprises:
        for n in range(each):
            await record_event(
                session,
                TicketNoteAdded(number=f"TT-{n}", visibility=NoteVisibility.public, body="on site"),
                subject_id=uuid.uuid4(),
                at=world.clock.now(),
                actor="test",
                enterprise_id=enterprise_id,
            )
    await session.commit()


async def test_a_batch_claims_once_per_enterprise_and_writes_each_kind_of_row_once(
    world: World, connection: AsyncConnection
) -> None:
    enterprises = []
    for name in ("Acme Telecom", "Andes Retail"):
        enterprise = await world.enterprise(name)
        admin = await world.api_client(Role.customer_admin, enterprise["id"])
        hook = {"url": "http://127.0.0.1:9/hook", "events": ["ticket.*"]}
        created = await world.client.post("/v1/webhooks", json=hook, headers=admin)
        assert created.status_code == 201, created.text
        enterprises.append(uuid.UUID(enterprise["id"]))
    async with world.sessionmaker() as session:
        await fan_out_all(session, world.clock)  # what making them wrote
        # A note each, fanned out before counting: the driver looks the types of a statement's
        # parameters up once per connection (the deliveries' jsonb[], say).
        await _public_notes(world, session, enterprises, 1)
        assert await fan_out_all(session, world.clock) == 2
        await _public_notes(world, session, enterprises, 3)

    async with statements(connection) as seen, world.sessionmaker() as session:
        fanned = await fan_out_all(session, world.clock)

    assert fanned == 6
    # The watermark's two looks; the candidates; one claim per enterprise; their endpoints;
    # the deliveries; the outbox rows marked; the NOTIFY of the senders.
    assert len(seen) == 9, "\n".join(seen)
