"""Claims on due clocks: a worker process killed (SIGKILL) while it holds its claims, in the
middle of its transaction, leaves the work to the others, done once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import select

from app.core.clock import FrozenClock
from app.core.database import create_engine, create_sessionmaker
from app.core.roles import Role
from app.core.tenancy import Caller
from app.models import Event
from app.services.enterprises.schemas import EnterpriseCreate, ServiceCreate, Site
from app.services.enterprises.service import create_enterprise, create_service
from app.services.tickets.engine import fire_due_clocks
from app.services.tickets.schemas import Contact, TicketCreate
from app.services.tickets.service import open_ticket
from tests.support.live import scalar
from tests.support.processes import Fleet, libpq_url, wait_until

pytestmark = pytest.mark.processes

ADMIN = Caller(
    id=uuid.uuid4(),
    kind="api_client",
    role=Role.provider_admin,
    name="test",
    enterprise_ids=frozenset(),
)

WAITING = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def test_a_killed_workers_claims_are_done_once_by_another_worker(
    fresh_database: str,
) -> None:
    engine = create_engine(fresh_database, pool_size=3)
    maker = create_sessionmaker(engine)
    # Opened two hours ago: their reception clocks are long due for a worker on the wall clock.
    clock = FrozenClock(datetime.now(UTC) - timedelta(hours=2))
    fleet = Fleet(fresh_database)
    gate: asyncpg.Connection | None = None
    try:
        async with maker() as s:
            enterprise = await create_enterprise(
                s, clock, None, EnterpriseCreate(name="Claims SA", country="EC")
            )
        async with maker() as s:
            service = await create_service(
                s, ADMIN, clock, None, enterprise.id,
                ServiceCreate(code="CLAIM-1", product_line="data",
                              site=Site(address="x", city="Quito", country="EC")),
            )  # fmt: skip
        ids = []
        for _ in range(3):
            async with maker() as s:
                payload = TicketCreate(
                    service_id=service.id,
                    severity="major",
                    summary="down",
                    contact=Contact(name="n"),
                )
                ids.append((await open_ticket(s, ADMIN, clock, None, payload)).id)

        # The victim claims the due clocks, then waits, inside its transaction, to write
        # their events: this connection holds the event table for the moment.
        gate = await asyncpg.connect(libpq_url(fresh_database))
        transaction = gate.transaction()
        await transaction.start()
        await gate.execute("LOCK TABLE events IN EXCLUSIVE MODE")
        victim = fleet.worker()
        wait_until(lambda: scalar(fleet.database_url, WAITING) >= 1, timeout=60, what="claims")
        # Its claims are there: another worker finds nothing it may take.
        async with maker() as b:
            assert (await fire_due_clocks(b, datetime.now(UTC))).claimed == 0

        victim.kill()  # with its claims held, mid-transaction
        await transaction.commit()

        # The dead worker's transaction never commits; its claims pass to the next worker.
        async def claimed_by_another() -> int:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while loop.time() < deadline:
                async with maker() as b:
                    claimed = (await fire_due_clocks(b, datetime.now(UTC))).claimed
                if claimed:
                    return claimed
                await asyncio.sleep(0.05)
            raise AssertionError("the dead worker's claims were never released")

        assert await claimed_by_another() == 3
        async with maker() as b:
            assert (await fire_due_clocks(b, datetime.now(UTC))).fired == 0
        async with maker() as s:
            events = (
                await s.execute(
                    select(Event.subject_id, Event.type).where(Event.subject_id.in_(ids))
                )
            ).all()
        for ticket_id in ids:
            counts = Counter(t for sid, t in events if sid == ticket_id)
            assert counts["sla.breached"] == 1, counts
    finally:
        if gate is not None:
            await gate.close()
        print(fleet.logs())  # noqa: T201  (pytest shows it when the test failed)
        fleet.close()
        await engine.dispose()
