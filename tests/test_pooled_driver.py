"""The hot ticket routes take their connection straight from the pool, with no ORM session
(`core.database.PooledDriver`): each one goes back to the pool, a dead one is not handed out
again, and a step that needs the ORM still runs."""

from __future__ import annotations

import asyncpg
import pytest

from app.core.database import as_libpq_url, create_engine, create_sessionmaker, pooled_driver
from app.core.settings import Settings
from tests.support.live_app import live_app
from tests.support.tickets import make_desk
from tests.support.workers import poll


async def test_the_hot_ticket_routes_give_every_connection_back(
    fresh_database: str, settings: Settings
) -> None:
    # One connection kept and ten more for a burst: a route that kept its connection would
    # leave the twelfth request waiting for one, then answered 503.
    async with live_app(fresh_database, settings, pool_size=1) as (world, app):
        desk = await make_desk(world)
        ids = [(await desk.open(summary=f"Down {n}"))["id"] for n in range(12)]
        for ticket_id in ids:
            one = await world.client.get(f"/v1/tickets/{ticket_id}", headers=desk.customer)
            assert one.status_code == 200, one.text
            assert one.json()["id"] == ticket_id
        for _ in range(12):
            page = await world.client.get("/v1/tickets?limit=100", headers=desk.customer)
            assert page.status_code == 200, page.text
            assert {t["id"] for t in page.json()["items"]} == set(ids)
        missing = await world.client.get(f"/v1/tickets/{ids[0][:-4]}0000", headers=desk.staff)
        assert missing.status_code == 404
        assert app.state.engine.pool.checkedout() == 0


async def test_a_city_spelled_with_accents_gets_its_tier_from_the_directory(
    fresh_database: str, settings: Settings
) -> None:
    # "Bogotá" is not its own directory key ("bogota"): intake asks the directory through the
    # ORM, beside the pooled driver.
    async with live_app(fresh_database, settings) as (world, app):
        desk = await make_desk(world, city="Bogotá", country="CO")
        ticket = await desk.open()
        assert ticket["city_tier"] == "main"
        assert app.state.engine.pool.checkedout() == 0


async def test_a_connection_found_dead_is_not_handed_out_again(fresh_database: str) -> None:
    engine = create_engine(fresh_database, pool_size=1)
    maker = create_sessionmaker(engine)
    try:
        async with pooled_driver(engine, maker) as db:
            pid, idle = db.driver.get_server_pid(), db.driver
        killer = await asyncpg.connect(as_libpq_url(fresh_database))
        try:
            await killer.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await killer.close()

        # As after a database restart: the idle connection in the pool has lost its server.
        async def closed() -> bool:
            return bool(idle.is_closed())

        await poll(closed, within=10)

        async def a_request_on_it() -> None:
            async with pooled_driver(engine, maker) as db:
                assert db.driver is idle  # the same, now dead, connection
                await db.driver.fetchval("SELECT 1")

        with pytest.raises((asyncpg.exceptions.InterfaceError, asyncpg.PostgresConnectionError)):
            await a_request_on_it()
        # The next request gets a live connection, not the same corpse.
        async with pooled_driver(engine, maker) as db:
            assert await db.driver.fetchval("SELECT 1") == 1
            assert db.driver.get_server_pid() != pid
    finally:
        await engine.dispose()
