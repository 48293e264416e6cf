"""The SLA engine's unit of work, driven by a frozen clock: each threshold once, in order."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from app.core.database import driver_connection
from app.services.tickets.engine import DUE_CLOCKS, fire_due_clocks
from tests.support.round_trips import statements
from tests.support.tickets import Desk, make_desk
from tests.support.world import World


async def sweep(world: World) -> int:
    async with world.sessionmaker() as session:
        return (await fire_due_clocks(session, world.clock.now())).fired


async def types_of(desk: Desk, ticket_id: str) -> list[str]:
    return [
        e["type"]
        for e in await desk.events(ticket_id)
        if e["type"].startswith(("sla.", "ticket.esc"))
    ]


async def test_warning_breach_and_three_levels_each_fire_once(world: World) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    start = world.clock.now()
    for seconds, expected in [
        (30, []),
        (45, ["sla.warning"]),
        (59, ["sla.warning"]),
        (60, ["sla.warning", "sla.breached", "ticket.escalated"]),
        (89, ["sla.warning", "sla.breached", "ticket.escalated"]),
        (90, ["sla.warning", "sla.breached", "ticket.escalated", "ticket.escalated"]),
        (200, ["sla.warning", "sla.breached", *["ticket.escalated"] * 3]),
        (900, ["sla.warning", "sla.breached", *["ticket.escalated"] * 3]),
    ]:
        world.clock.set(start + timedelta(seconds=seconds))
        await sweep(world)
        await sweep(world)  # a second look finds nothing more
        assert await types_of(desk, ticket["id"]) == expected, seconds
    read = (await world.client.get(f"/v1/tickets/{ticket['id']}", headers=desk.customer)).json()
    assert read["escalation_level"] == 3
    assert read["breached"] is True
    clock = read["sla"][0]
    assert clock["state"] == "running"
    assert clock["breached_at"] == "2026-11-23T15:01:00Z"
    assert clock["warned_at"] == "2026-11-23T15:00:45Z"
    events = await desk.events(ticket["id"])
    level1 = next(e for e in events if e["type"] == "ticket.escalated")
    assert level1["data"]["level"] == 1
    assert level1["data"]["escalation"]["role"] == "TSC supervisor"
    assert [p["e164"] for p in level1["data"]["escalation"]["phones"]] == [
        "+59324005179",
        "+59324005178",
    ]
    assert level1["actor"] == "system:sla-engine"
    async with world.sessionmaker() as session:  # nothing left to fall due: no next look
        assert (await fire_due_clocks(session, world.clock.now())).next_due_at is None
    moved = await desk.move(ticket["id"], "registration")
    assert moved["sla"][0]["state"] == "breached"


async def test_a_breach_out_of_office_hours_names_the_after_hours_line(world: World) -> None:
    world.clock.set(world.clock.now().replace(hour=5))  # 00:00 in Quito
    desk = await make_desk(world)
    ticket = await desk.open()
    world.clock.advance(timedelta(minutes=1))
    await sweep(world)
    events = await desk.events(ticket["id"])
    escalated = next(e for e in events if e["type"] == "ticket.escalated")
    assert escalated["data"]["escalation"]["after_hours"]["e164"] == "+59324005124"


async def test_a_paused_clock_never_falls_due(world: World) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    await world.client.post(
        f"/v1/tickets/{ticket['id']}/hold", json={"reason": "no contact"}, headers=desk.staff
    )
    world.clock.advance(timedelta(hours=2))
    assert await sweep(world) == 0
    await world.client.post(f"/v1/tickets/{ticket['id']}/resume", headers=desk.staff)
    world.clock.advance(timedelta(seconds=44))
    assert await sweep(world) == 0
    world.clock.advance(timedelta(seconds=1))
    assert await sweep(world) == 1
    assert await types_of(desk, ticket["id"]) == ["sla.warning"]


async def test_a_stage_ended_late_before_the_engine_looked_is_breached_once(world: World) -> None:
    desk = await make_desk(world)
    ticket = await desk.open()
    world.clock.advance(timedelta(seconds=61))
    moved = await desk.move(ticket["id"], "registration")
    assert moved["sla"][0]["state"] == "breached"
    assert await sweep(world) == 0
    assert (await types_of(desk, ticket["id"])).count("sla.breached") == 1


async def test_a_sweep_takes_one_statement_to_find_nothing_and_five_for_a_batch(
    world: World, connection: AsyncConnection
) -> None:
    desk = await make_desk(world)
    opened = [await desk.open() for _ in range(3)]
    async with statements(connection) as seen:
        assert await sweep(world) == 0
    assert len(seen) == 1, seen  # the candidates, with the next due instant
    world.clock.advance(timedelta(seconds=60))  # each ticket's breach and first escalation
    async with statements(connection) as seen:
        assert await sweep(world) == len(opened)
    # The candidates, the claim (one enterprise), the escalation matrices, the calendars, and
    # the batch's events, outbox rows, clocks and tickets, whatever the batch's size.
    assert len(seen) == 5, seen
    for ticket in opened:
        assert await types_of(desk, ticket["id"]) == ["sla.breached", "ticket.escalated"]


async def test_the_due_query_uses_the_partial_index(world: World) -> None:
    async with world.sessionmaker() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        driver = await driver_connection(session)
        rows = await driver.fetch(f"EXPLAIN {DUE_CLOCKS}", world.clock.now(), 100)
        plan = "\n".join(r[0] for r in rows)
        await session.rollback()
    assert plan.count("ix_sla_clocks_next_due") == 2, plan
