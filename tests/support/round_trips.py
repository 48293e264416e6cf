"""Counting the statements a use case sends to the server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

_TRANSACTION_CONTROL = {"SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"}


@asynccontextmanager
async def statements(connection: AsyncConnection) -> AsyncIterator[list[str]]:
    """Every statement the server receives on the test's connection, transaction control left
    out: those sent on the driver (`driver_connection`), as the driver logs them, and
    SQLAlchemy's, which run as prepared statements the driver does not log."""
    seen: list[str] = []

    def note(query: str) -> None:
        if query.lstrip().split(None, 1)[0].upper() not in _TRANSACTION_CONTROL:
            seen.append(query)

    def logged(record: Any) -> None:
        note(record.query)

    def executed(*args: Any) -> None:  # (conn, cursor, statement, parameters, context, many)
        note(args[2])

    driver = (await connection.get_raw_connection()).driver_connection
    driver.add_query_logger(logged)
    event.listen(connection.sync_connection, "before_cursor_execute", executed)
    try:
        yield seen
        await asyncio.sleep(0)  # the driver calls its loggers on the next loop turn
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", executed)
        driver.remove_query_logger(logged)
