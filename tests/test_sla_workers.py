"""The SLA engine in real worker processes: breaches recorded within a second, never twice.

Two `carrierdesk worker` processes run against a committed database; the
reception target is set to a few seconds through the policy service; tickets
are opened with the system clock; the test polls the database with a deadline.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import SystemClock
from app.core.database import create_engine, create_sessionmaker
from app.core.roles import Role
from app.core.tenancy import Caller
from app.models import Event, SlaClock
from app.services.enterprises.schemas import EnterpriseCreate, ServiceCreate, Site
from app.services.enterprises.service import create_enterprise, create_service
from app.services.tickets.schemas import Contact, SlaPolicyBody, TicketCreate
from app.services.tickets.service import open_ticket
from app.services.tickets.sla_policies import get_policy, put_policy
from tests.support.workers import poll, running_workers

pytestmark = pytest.mark.processes

CLOCK = SystemClock()
ADMIN = Caller(
    id=uuid.uuid4(),
    kind="api_client",
    role=Role.provider_admin,
    name="test",
    enterprise_ids=frozenset(),
)


async def _tenant(
    maker: async_sessionmaker[AsyncSession], reception: str
) -> tuple[Caller, uuid.UUID]:
    async with maker() as session:
        enterprise = await create_enterprise(
            session, CLOCK, None, EnterpriseCreate(name="Petroamazonas", country="EC")
        )
    async with maker() as session:
        service = await create_service(
            session, ADMIN, CLOCK, None, enterprise.id,
            ServiceCreate(
                code=f"EC-{uuid.uuid4().hex[:8]}", product_line="data",
                site=Site(address="Av. 6 de Diciembre", city="Quito", country="EC"),
            ),
        )  # fmt: skip
    async with maker() as session:
        current = await get_policy(session, "EC")
        body = current.model_dump(
            include={"targets", "dispatch", "warning_ratio", "escalation_ratios"}
        )
        body["targets"]["reception"] = reception
        await put_policy(session, ADMIN, CLOCK, "EC", SlaPolicyBody.model_validate(body), None)
    customer = Caller(
        id=uuid.uuid4(), kind="api_client", role=Role.customer_user, name="noc",
        enterprise_ids=frozenset({enterprise.id}),
    )  # fmt: skip
    return customer, service.id


async def _open(
    maker: async_sessionmaker[AsyncSession], caller: Caller, service_id: uuid.UUID
) -> uuid.UUID:
    payload = TicketCreate(
        service_id=service_id, severity="critical", summary="Fibre cut", contact=Contact(name="NOC")
    )
    async with maker() as session:
        return (await open_ticket(session, caller, CLOCK, None, payload)).id


async def _run(database_url: str, *, tickets: int, reception: str, spread: float) -> None:
    engine = create_engine(database_url, pool_size=2)
    maker = create_sessionmaker(engine)
    try:
        customer, service_id = await _tenant(maker, reception)
        async with running_workers(database_url, maker, count=2):
            ids = []
            for i in range(tickets):
                ids.append(await _open(maker, customer, service_id))
                if spread and i < tickets - 1:
                    await poll_sleep(spread / tickets)

            async def all_at_level_three() -> bool:
                async with maker() as session:
                    levels = (
                        (
                            await session.execute(
                                select(SlaClock.escalation_level).where(SlaClock.ticket_id.in_(ids))
                            )
                        )
                        .scalars()
                        .all()
                    )
                return len(levels) == tickets and all(level == 3 for level in levels)

            target = float(reception.removeprefix("PT").removesuffix("S"))
            await poll(all_at_level_three, within=30 + 2 * target + spread)
        await _assert_each_fired_once_and_on_time(maker, ids)
    finally:
        await engine.dispose()


async def poll_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)  # spreads intake over time; nothing waits on an outcome


async def _assert_each_fired_once_and_on_time(
    maker: async_sessionmaker[AsyncSession], ids: list[uuid.UUID]
) -> None:
    async with maker() as session:
        events = (
            await session.execute(
                select(Event.subject_id, Event.type, Event.at, Event.data)
                .where(Event.subject_id.in_(ids))
                .order_by(Event.id)
            )
        ).all()
        clocks = {
            c.ticket_id: c
            for c in (
                await session.execute(select(SlaClock).where(SlaClock.ticket_id.in_(ids)))
            ).scalars()
        }
    for ticket_id in ids:
        mine = [e for e in events if e.subject_id == ticket_id]
        counts = Counter(e.type for e in mine)
        assert counts["sla.breached"] == 1, counts
        assert counts["sla.warning"] == 1, counts
        clock = clocks[ticket_id]
        assert clock.due_at is not None
        assert clock.breached_at is not None
        breach: Any = next(e for e in mine if e.type == "sla.breached")
        lag = breach.at - clock.due_at
        assert timedelta(0) <= lag < timedelta(seconds=1), (ticket_id, lag)
        assert clock.breached_at == breach.at
        levels = [e.data["level"] for e in mine if e.type == "ticket.escalated"]
        assert levels == [1, 2, 3]
        level1 = next(e for e in mine if e.type == "ticket.escalated")
        assert level1.at - clock.due_at < timedelta(seconds=1)
        assert level1.data["escalation"]["phones"], level1.data


async def test_two_workers_breach_within_a_second_and_never_twice(fresh_database: str) -> None:
    await _run(fresh_database, tickets=6, reception="PT2S", spread=0.0)


@pytest.mark.long
async def test_many_clocks_two_workers_within_a_second_and_never_twice(
    fresh_database: str,
) -> None:
    await _run(fresh_database, tickets=300, reception="PT5S", spread=20.0)
