"""Count the statements a server receives on a test's connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncConnection


@asynccontextmanager
async def statements(connection: AsyncConnection) -> AsyncIterator[list[str]]:
    """Every statement the server receives on the test's connection, as the driver logs it:
    SQLAlchemy's and the plain-SQL hot paths' alike (transaction control left out)."""
    seen: list[str] = []

    def note(query: str) -> None:
        word = query.lstrip().split(None, 1)[0].upper()
        if word not in {"SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"}:
            seen.append(query)

    def record(logged: Any) -> None:
        note(logged.query)

    def record_prepared(*args: Any) -> None:
        note(args[2])

    driver = (await connection.get_raw_connection()).driver_connection
    driver.add_query_logger(record)
    sa_event.listen(connection.sync_connection, "before_cursor_execute", record_prepared)
    try:
        yield seen
        await asyncio.sleep(0)  # the driver calls its loggers on the next loop turn
    finally:
        driver.remove_query_logger(record)
        sa_event.remove(connection.sync_connection, "before_cursor_execute", record_prepared)
