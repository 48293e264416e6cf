"""Claims on due clocks: a second worker skips what the first holds, and a worker that dies
mid-way (its transaction never commits) leaves the work for the others, done once."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.core.clock import FrozenClock
from app.core.database import create_engine, create_sessionmaker
from app.core.roles import Role
from app.core.tenancy import Caller
from app.models import Event
from app.services.enterprises.schemas import EnterpriseCreate, ServiceCreate, Site
from app.services.enterprises.service import create_enterprise, create_service
from app.services.tickets.engine import _fire, due_clocks_statement, fire_due_clocks
from app.services.tickets.schemas import Contact, TicketCreate
from app.services.tickets.service import open_ticket

T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
ADMIN = Caller(
    id=uuid.uuid4(),
    kind="api_client",
    role=Role.provider_admin,
    name="test",
    enterprise_ids=frozenset(),
)


async def test_a_killed_claim_is_done_once_by_another_worker(fresh_database: str) -> None:
    engine = create_engine(fresh_database, pool_size=3)
    maker = create_sessionmaker(engine)
    clock = FrozenClock(T0)
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
        due = T0 + timedelta(seconds=61)

        # Worker A claims every due clock and records the breaches, then dies before commit.
        dying = maker()
        rows = (await dying.execute(due_clocks_statement(due, 100))).all()
        assert len(rows) == 3
        for row in rows:
            await _fire(dying, row, due, {})
        # Meanwhile worker B finds nothing it may take: A holds the rows.
        async with maker() as b:
            assert (await fire_due_clocks(b, due)).claimed == 0
        await dying.rollback()  # the process is gone: its transaction never commits
        await dying.close()

        # Worker B looks again: everything A had claimed is done, once.
        async with maker() as b:
            assert (await fire_due_clocks(b, due)).claimed == 3
        async with maker() as b:
            assert (await fire_due_clocks(b, due)).fired == 0
        async with maker() as s:
            events = (
                await s.execute(
                    select(Event.subject_id, Event.type).where(Event.subject_id.in_(ids))
                )
            ).all()
        for ticket_id in ids:
            counts = Counter(t for sid, t in events if sid == ticket_id)
            assert counts["sla.breached"] == 1, counts
            assert counts["ticket.escalated"] == 1, counts
    finally:
        await engine.dispose()
