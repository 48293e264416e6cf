"""No DNS lookup runs while a database transaction is open.

A name server that takes seconds to answer must not hold a transaction (and its row locks, or
an `Idempotency-Key` lock) open that long. The app runs here over a committed database of its
own, with the SSRF guard in strict mode; the resolver is replaced (DNS lies outside the
machine) by one that looks, from a connection of its own, for any transaction open in the
database at the moment of the lookup.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from app.core.clock import FrozenClock
from app.core.database import create_engine, create_sessionmaker
from app.core.roles import Role
from app.core.settings import Settings
from app.main import create_app
from app.services.delivery import addresses
from tests.support.processes import libpq_url
from tests.support.world import World

PUBLIC = "93.184.216.34"  # what the stand-in name server answers: a public address

OPEN_TRANSACTIONS = """
SELECT pid, state, query FROM pg_stat_activity
 WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
"""


class WatchingResolver:
    """Answers every name with a public address, noting the transactions open meanwhile."""

    def __init__(self, database_url: str) -> None:
        self.database_url = libpq_url(database_url)
        self.lookups: list[str] = []
        self.open_during_lookup: list[str] = []

    async def __call__(self, host: str, port: int) -> set[str]:
        self.lookups.append(host)
        watcher = await asyncpg.connect(self.database_url)
        try:
            for row in await watcher.fetch(OPEN_TRANSACTIONS):
                self.open_during_lookup.append(f"{host}: {row['state']} {row['query'][:80]}")
        finally:
            await watcher.close()
        return {PUBLIC}


@pytest.fixture
async def committed_world(fresh_database: str) -> AsyncIterator[World]:
    engine = create_engine(fresh_database, pool_size=3)
    sessionmaker = create_sessionmaker(engine)
    clock = FrozenClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    settings = Settings(env="test", database_url=fresh_database, webhook_allow_private=False)
    app = create_app(settings, sessionmaker=sessionmaker, engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield await World.start(client, sessionmaker, clock)
    finally:
        await engine.dispose()


async def test_webhook_and_hub_hosts_are_resolved_outside_any_transaction(
    committed_world: World, fresh_database: str, monkeypatch: Any
) -> None:
    world = committed_world
    resolver = WatchingResolver(fresh_database)
    monkeypatch.setattr(addresses, "resolve", resolver)
    acme = await world.enterprise("Acme DNS", "EC")
    admin = await world.api_client(Role.customer_admin, acme["id"])

    created = await world.client.post(
        "/v1/webhooks",
        json={"url": "https://hooks.acme.example/in", "events": ["ticket.*"]},
        headers={**admin, "Idempotency-Key": "dns-1"},
    )
    assert created.status_code == 201, created.text
    changed = await world.client.patch(
        f"/v1/webhooks/{created.json()['id']}",
        json={"url": "https://hooks2.acme.example/in"},
        headers={**admin, "If-Match": 'W/"1"'},
    )
    assert changed.status_code == 200, changed.text
    carrier = await world.api_client(Role.carrier, acme["id"])
    # Keyed, so the `Idempotency-Key` lock (which opens the transaction) is taken too.
    for path, host in (
        ("/tmf-api/troubleTicket/v4/hub", "tmf.acme.example"),
        ("/mefApi/sonata/troubleTicket/v4/hub", "sonata.acme.example"),
    ):
        hub = await world.client.post(
            path,
            json={"callback": f"https://{host}/listener"},
            headers={**carrier, "Idempotency-Key": f"dns-{host}"},
        )
        assert hub.status_code == 201, hub.text

    assert resolver.lookups == [
        "hooks.acme.example",
        "hooks2.acme.example",
        "tmf.acme.example",
        "sonata.acme.example",
    ]
    assert resolver.open_during_lookup == []
