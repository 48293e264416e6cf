"""Test fixtures: a real PostgreSQL, its schema built by the migrations.

One server per session (embedded, or the one `CARRIERDESK_DATABASE_URL`
names), a template database migrated and seeded once, and for each test a
connection inside a transaction rolled back at the end. Tests that start
real processes take `fresh_database` instead: a committed copy of the template.
Tests that serve the app over HTTP take `live`: the rolled-back test transaction
is one connection, and a served app (a stream's poller beside the next request)
would use it from two tasks at once.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.core.clock import FrozenClock, SystemClock
from app.core.database import as_asyncpg_url, create_engine, create_sessionmaker
from app.core.embedded import sqlalchemy_url, start_embedded_server
from app.core.migrations import upgrade_to_head_async
from app.core.settings import Settings
from app.main import create_app
from app.seeding import seed_reference_data
from tests.support.citus import citus_database  # noqa: F401  (the fixture of the `citus` tests)
from tests.support.database import ServerHandle, create_database, drop_database
from tests.support.live_app import live_app
from tests.support.processes import Fleet, fleet_on
from tests.support.settings import suite_settings
from tests.support.world import World

ROOT = Path(__file__).resolve().parents[1]

# No timed assertions (CONTRIBUTING): Hypothesis's per-example deadline fails
# correct code on a busy shared machine, so it is off for the whole suite.
hypothesis_settings.register_profile("carrierdesk", deadline=None)
hypothesis_settings.load_profile("carrierdesk")


@pytest.fixture(scope="session")
def server() -> ServerHandle:
    external = os.environ.get("CARRIERDESK_DATABASE_URL")
    if external:
        return ServerHandle.from_url(as_asyncpg_url(external))
    embedded = start_embedded_server(ROOT / ".carrierdesk" / "test")
    return ServerHandle(url_for=lambda db: sqlalchemy_url(embedded, db), embedded=embedded)


@pytest.fixture(scope="session")
async def template_database(server: ServerHandle) -> AsyncIterator[str]:
    """A database migrated to head and seeded, copied for every test database."""
    name = f"cd_tpl_{uuid.uuid4().hex[:8]}"
    await create_database(server, name)
    url = server.url_for(name)
    await upgrade_to_head_async(url)
    engine = create_engine(url, pool_size=1)
    async with create_sessionmaker(engine)() as session:
        await seed_reference_data(session, SystemClock())
    await engine.dispose()
    yield name
    await drop_database(server, name)


@pytest.fixture(scope="session")
async def database_url(server: ServerHandle, template_database: str) -> AsyncIterator[str]:
    name = f"cd_test_{uuid.uuid4().hex[:8]}"
    await create_database(server, name, template=template_database)
    yield server.url_for(name)
    await drop_database(server, name)


@pytest.fixture
async def fresh_database(server: ServerHandle, template_database: str) -> AsyncIterator[str]:
    """A committed database of its own, for tests with real processes and real commits."""
    name = f"cd_live_{uuid.uuid4().hex[:8]}"
    await create_database(server, name, template=template_database)
    yield server.url_for(name)
    await drop_database(server, name)


@pytest.fixture(scope="module")
async def module_database(server: ServerHandle, template_database: str) -> AsyncIterator[str]:
    """A committed database shared by one module's tests: for processes started once per
    module, by tests that do not depend on a clean slate."""
    name = f"cd_mod_{uuid.uuid4().hex[:8]}"
    await create_database(server, name, template=template_database)
    yield server.url_for(name)
    await drop_database(server, name)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        await transaction.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    # Services commit; inside a test those commits release savepoints of the
    # outer transaction, which is rolled back when the test ends.
    return async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))


@pytest.fixture
def settings() -> Settings:
    return suite_settings()


@pytest.fixture
async def client(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    clock: FrozenClock,
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, sessionmaker=sessionmaker, engine=engine, clock=clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def world(
    client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> World:
    """Enterprises, services and API clients made through the API, as a user would."""
    return await World.start(client, sessionmaker, clock)


@pytest.fixture
async def live(fresh_database: str, settings: Settings) -> AsyncIterator[tuple[World, Any]]:
    """A `World` on a committed database of its own, and its app to serve over HTTP with a
    real connection pool."""
    async with live_app(fresh_database, settings) as (world, app):
        yield world, app


@pytest.fixture
def fleet(fresh_database: str) -> Iterator[Fleet]:
    """Real `carrierdesk` processes on a committed database of their own."""
    yield from fleet_on(fresh_database)
