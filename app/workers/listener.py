"""A dedicated connection that LISTENs and turns NOTIFYs into asyncio events.

If the connection drops (database restart), it reconnects and then sets every
event, so each loop re-reads the database and catches up on what it missed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg

from app.core.database import as_libpq_url
from app.workers.context import WorkerContext

logger = logging.getLogger("carrierdesk.worker.listener")


async def listen_forever(ctx: WorkerContext, channels: list[str]) -> None:
    backoff = 0.2
    while True:
        conn: Any = None
        try:
            conn = await asyncpg.connect(as_libpq_url(ctx.database_url))
            lost = asyncio.Event()

            def on_notify(_c: Any, _pid: int, channel: str, payload: str) -> None:
                ctx.notified(channel, payload)

            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            for channel in channels:
                await conn.add_listener(channel, on_notify)
            backoff = 0.2
            for channel in channels:  # catch up on anything missed while disconnected
                ctx.wakeup(channel).set()
            while not lost.is_set():
                try:
                    await asyncio.wait_for(lost.wait(), timeout=5)
                except TimeoutError:
                    await conn.execute("SELECT 1")  # notice a dead socket promptly
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("listen connection lost: %s; reconnecting", type(exc).__name__)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
        finally:
            if conn is not None and not conn.is_closed():
                try:
                    await asyncio.wait_for(conn.close(), timeout=2)
                except Exception:
                    conn.terminate()
