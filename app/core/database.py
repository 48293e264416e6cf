"""Engine, sessions and the resolution of which PostgreSQL to talk to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import greenlet_spawn

from app.core.embedded import sqlalchemy_url, start_embedded_server
from app.core.errors import DRIVER_CONNECTION_ERRORS
from app.core.settings import Settings

EMBEDDED_DATABASE = "carrierdesk"


@dataclass
class DatabaseTarget:
    url: str
    embedded_server: Any | None = None


def resolve_database(settings: Settings, *, database: str = EMBEDDED_DATABASE) -> DatabaseTarget:
    """The configured server, or a private embedded one with `database` created in it."""
    if settings.database_url:
        return DatabaseTarget(url=as_asyncpg_url(settings.database_url))
    server = start_embedded_server(settings.data_dir)
    url = sqlalchemy_url(server, database)
    asyncio.run(create_database_if_missing(sqlalchemy_url(server, "postgres"), database))
    return DatabaseTarget(url=url, embedded_server=server)


def as_asyncpg_url(url: str) -> str:
    for prefix in (
        "postgresql://",
        "postgres://",
        "postgresql+psycopg://",
        "postgresql+psycopg2://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def as_libpq_url(url: str) -> str:
    """asyncpg.connect() takes a plain libpq URL, not SQLAlchemy's dialect form."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def create_database_if_missing(maintenance_url: str, database: str) -> None:
    conn = await asyncpg.connect(as_libpq_url(maintenance_url))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


SERVER_SETTINGS = {
    "application_name": "carrierdesk",
    "timezone": "UTC",
    # On Citus, a transaction may write a reference table (an Idempotency-Key answer, a
    # maintenance) after reading across shards; Citus allows that only when it ran the read
    # one connection per node. Plain PostgreSQL keeps the setting as an unused placeholder.
    "citus.multi_shard_modify_mode": "sequential",
    # asyncpg looks up a type it has not met on a new connection's first use of it; JIT
    # compiling that catalog query costs seconds under load, and Citus's hiding of shard
    # tables from the catalog costs as much again (migrations, which list tables, keep it).
    "jit": "off",
    "citus.override_table_visibility": "off",
}


# Connections a pool opens beyond the ones it keeps, for a burst.
BURST_CONNECTIONS = 10

# The array types the driver statements send and read. asyncpg looks a type up in the catalog
# on a connection's first statement that meets it, one round trip per statement (5-20 ms under
# load, measured), in the middle of whatever met it first: the first SLA sweep that breaches,
# the first fan-out batch. A new connection looks them all up at once instead.
ARRAY_TYPES = (
    "uuid[]",
    "text[]",
    "varchar[]",
    "int8[]",
    "int4[]",
    "bool[]",
    "timestamptz[]",
    "float8[]",
    "jsonb[]",
)
_ARRAY_TYPES_LOOK_UP = "SELECT " + ", ".join(f"${n}::{t}" for n, t in enumerate(ARRAY_TYPES, 1))


def _look_up_array_types(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.run_async(lambda driver: driver.prepare(_ARRAY_TYPES_LOOK_UP))


def create_engine(url: str, *, pool_size: int = 20) -> AsyncEngine:
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        # Overflow connections are closed when returned, so the kept pool is what covers the
        # usual load (settings.db_pool_size). An API process holds at most 40 + 10; a worker's
        # loops hold only a few at once (docs/SCALING.md sizes a deployment against
        # PostgreSQL's max_connections).
        max_overflow=BURST_CONNECTIONS,
        # No pre-ping: it costs a round trip on every checkout. A connection
        # that died with a restarted server fails its statement, SQLAlchemy
        # invalidates the pool, and the client gets a 503 with Retry-After.
        pool_pre_ping=False,
        pool_timeout=10,
        # Replicas and workers share one server: keep idle connections short-lived
        # enough that a restarted server's dead sockets are not handed out for long.
        pool_recycle=1800,
        connect_args={"server_settings": SERVER_SETTINGS},
    )
    event.listen(engine.sync_engine, "connect", _look_up_array_types)
    return engine


def create_sessionmaker(bind: Any) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind=bind, expire_on_commit=False, autoflush=False)


class PooledDriver:
    """An asyncpg connection checked straight out of the engine's pool, for a route whose use
    case runs plain SQL on the driver only (`pooled_driver`). No ORM session and no SQLAlchemy
    Connection around it: on the hot routes their setup and teardown cost more CPU than the
    statement. No transaction either: each statement commits on its own. A rare step that
    needs the ORM opens a session then (`orm_session`), on a connection of its own."""

    __slots__ = ("_maker", "_session", "driver")

    def __init__(self, driver: Any, maker: async_sessionmaker[AsyncSession]) -> None:
        self.driver = driver
        self._maker = maker
        self._session: AsyncSession | None = None


# A use case's database: a session, or on a hot route the pool's driver connection alone.
Db = AsyncSession | PooledDriver


@asynccontextmanager
async def pooled_driver(
    engine: AsyncEngine, maker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[PooledDriver]:
    """A connection of `engine`'s pool as a `PooledDriver`, back in the pool on leaving, or
    dropped from it when the connection was found lost."""
    fairy = await engine.raw_connection()
    db = PooledDriver(fairy.driver_connection, maker)
    try:
        yield db
    except DRIVER_CONNECTION_ERRORS:
        # Not returned to the pool, or the next request would be handed the same corpse.
        await greenlet_spawn(fairy.invalidate)
        raise
    finally:
        if db._session is not None:
            await db._session.close()
        # In a greenlet: returning it may close it (an overflow or invalidated connection),
        # which the asyncpg dialect awaits.
        await greenlet_spawn(fairy.close)


def orm_session(db: Db) -> AsyncSession:
    """The session for an ORM step: `db` itself, or one opened now beside a pooled driver."""
    if isinstance(db, AsyncSession):
        return db
    if db._session is None:
        db._session = db._maker()
    return db._session


async def driver_connection(db: Db) -> Any:
    """The asyncpg connection under a session, for the few per-request hot statements.

    A statement sent here joins the session's transaction when one has begun
    (tests run inside one); otherwise it runs on its own, which suits single
    statements that need no transaction: no BEGIN, no ROLLBACK, one round trip.
    """
    if isinstance(db, PooledDriver):
        return db.driver
    connection = await db.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def in_server_transaction(driver: Any) -> bool:
    """Whether the driver connection has a transaction open on the server."""
    return bool(driver.is_in_transaction())


async def begin_on_server(db: Db) -> None:
    """Open the session's transaction on the server now, so driver statements join it.

    SQLAlchemy begins lazily, at the first statement; a use case that mixes
    driver statements with ORM ones in one transaction calls this first.
    """
    if isinstance(db, PooledDriver):
        raise TypeError("a pooled driver has no transaction to join: pass the session")
    connection = await db.connection()
    await connection.exec_driver_sql("SELECT 1")


async def fetch_in_transaction(session: AsyncSession, sql: str, *args: Any) -> list[Any]:
    """The rows of `sql` (plain SQL, `$n` parameters), run in the session's transaction.

    On the driver when the transaction is open on the server; otherwise through SQLAlchemy,
    which sends its BEGIN first, so that it commits or rolls back what follows (one round
    trip fewer than `begin_on_server` and then the statement). Rows are tuples either way.
    """
    connection = await session.connection()
    driver: Any = (await connection.get_raw_connection()).driver_connection
    if in_server_transaction(driver):
        return list(await driver.fetch(sql, *args))
    return list(await connection.exec_driver_sql(sql, args))
