"""Alembic environment: async, under an advisory lock so replicas starting together do not race."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.distribution import distribute
from app.core.migrations import MIGRATION_LOCK_KEY, database_url_for_alembic
from app.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
    )
    # A session-level lock: the second replica waits here, then finds the
    # schema already at head and does nothing.
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    try:
        with context.begin_transaction():
            context.run_migrations()
        # On Citus, the tables the migrations made are placed (`app.core.distribution`).
        distribute(connection)
        connection.commit()
    finally:
        connection.rollback()  # after a failure, so that the unlock below can run
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
# Resolved before the event loop starts: with no URL configured this may start
# the embedded server, which runs its own short event loop.
asyncio.run(_run_async(database_url_for_alembic(config)))
