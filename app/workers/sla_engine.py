"""The SLA engine loop: sleep until the earliest due instant, wake early on NOTIFY.

The API NOTIFYs `carrierdesk_sla` in the transaction that sets a due time, so
a new or earlier deadline wakes the loop at once; otherwise it sleeps exactly
until the earliest `next_due_at` (never longer than `MAX_SLEEP`, a safety net
under lost notifications). A periodic sweep job runs the same claim too.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from app.services.calendars.service import public_holidays
from app.services.directory.rules import DEFAULT_HOLIDAY_CATEGORIES, HANDBOOK_COUNTRIES
from app.services.tickets.clocks import SLA_CHANNEL
from app.services.tickets.engine import SweepResult, fire_due_clocks, next_due_instant
from app.workers.context import WorkerContext

logger = logging.getLogger("carrierdesk.worker.sla")

BATCH = 200
MAX_SLEEP = 10.0  # seconds: the loop re-reads the database at least this often
BUSY_PAUSE = 0.05  # a due clock another worker holds: look again shortly
SWEEP_SECONDS = 15.0


def seconds_until(next_at: datetime | None, now: datetime) -> float:
    if next_at is None:
        return MAX_SLEEP
    delay = (next_at - now).total_seconds()
    if delay <= 0:
        return BUSY_PAUSE
    return min(delay + 0.001, MAX_SLEEP)


async def warm_directory() -> None:
    """Holiday tables are computed on first use (about half a second per country): compute
    the handbook countries' in a thread at start-up, not on the first breach's path."""
    for code in HANDBOOK_COUNTRIES:
        await asyncio.to_thread(public_holidays, code, DEFAULT_HOLIDAY_CATEGORIES)


async def sla_loop(ctx: WorkerContext) -> None:
    wake = ctx.wakeup(SLA_CHANNEL)
    warming = asyncio.create_task(warm_directory())  # a reference, so it is not collected
    while True:
        wake.clear()  # before reading: a NOTIFY arriving from here on is not lost
        async with ctx.sla_turn, ctx.sessionmaker() as session:
            result = await fire_due_clocks(session, ctx.clock.now(), limit=BATCH)
            if result.fired:
                logger.info("sla thresholds recorded", extra={"clocks": result.fired})
            if result.claimed >= BATCH:
                continue  # more are due: no sleep
            next_at = await next_due_instant(session)
            await session.rollback()
        delay = seconds_until(next_at, ctx.clock.now())
        try:
            await asyncio.wait_for(wake.wait(), timeout=delay)
        except TimeoutError:
            pass
        if warming.done() and not warming.cancelled():
            warming.exception()  # a failed warm-up only costs speed; do not log it as lost


async def sla_sweep(ctx: WorkerContext) -> SweepResult:
    """The periodic safety sweep (APScheduler): the same claim, whatever the loop is doing."""
    async with ctx.sla_turn, ctx.sessionmaker() as session:
        return await fire_due_clocks(session, ctx.clock.now(), limit=BATCH)
