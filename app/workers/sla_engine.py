"""The SLA engine loop: sleep until the earliest due instant, wake early on NOTIFY.

The API NOTIFYs `carrierdesk_sla` in the transaction that sets a due time, so
a new or earlier deadline wakes the loop at once; otherwise it sleeps exactly
until the earliest `next_due_at` (never longer than `MAX_SLEEP`, a safety net
under lost notifications). A periodic sweep job runs the same claim too.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from datetime import datetime, timedelta

from app.services.calendars.service import public_holidays
from app.services.directory.rules import DEFAULT_HOLIDAY_CATEGORIES, HANDBOOK_COUNTRIES
from app.services.tickets.clocks import SLA_CHANNEL
from app.services.tickets.engine import SweepResult, fire_due_clocks
from app.workers.context import WorkerContext

logger = logging.getLogger("carrierdesk.worker.sla")

BATCH = 200
MAX_SLEEP = 10.0  # seconds: the loop re-reads the database at least this often
BUSY_PAUSE = 0.05  # a due clock another worker holds: look again shortly
# From the start of a sweep that found work to the start of the next, at least this long: clocks
# falling due one after another (10,000 a minute is one every 6 ms) are claimed ~25 at a time,
# so that the sweep's fixed cost (its statements: candidates, claim, contacts, the batch's
# writes; about 5 ms of worker CPU) and the outbox fan-out each commit wakes (about twice that)
# are shared, at the cost of at most this lag. At 10,000 due a minute on a shared 2-core machine
# (worker CPU per clock, lag p99): 0.05 s ~2.8 ms; 0.1 s ~1.9 ms, 100 ms; 0.15 s ~1.5-1.6 ms,
# 150 ms; 0.2 s ~1.2 ms, 200 ms; the bound on the lag is 250 ms (#14).
GATHER = 0.15
SWEEP_SECONDS = 15.0


def seconds_until(next_at: datetime | None, now: datetime, *, if_past: float = BUSY_PAUSE) -> float:
    if next_at is None:
        return MAX_SLEEP
    delay = (next_at - now).total_seconds()
    if delay <= 0:
        return if_past
    return min(delay + 0.001, MAX_SLEEP)


async def warm_up() -> None:
    """Holiday tables are computed on first use (about half a second per country): compute
    the handbook countries' in a thread at start-up, not on the first breach's path.

    Then freeze what start-up built (modules, the holiday tables): it lives as long as the
    process, and every full pass of the cyclic collector would otherwise walk it all, a pause of
    0.2-0.5 s in whatever sweep it falls on (measured on a shared 2-core machine; ~7 ms once
    frozen)."""
    for code in HANDBOOK_COUNTRIES:
        await asyncio.to_thread(public_holidays, code, DEFAULT_HOLIDAY_CATEGORIES)
    gc.freeze()


class Alarm:
    """Which NOTIFYs need the loop now. Each names the due instant it set (intake: none, when
    the new clock never falls due). Asleep, the loop wakes only for an instant before the one
    it sleeps until (every ticket opened NOTIFYs; its clock falls due hours later); at work,
    it remembers the earliest instant heard and plans its next look with it."""

    def __init__(self) -> None:
        self.at: datetime | None = None  # when the loop looks next; None while it works
        self.heard: datetime | None = None  # the earliest instant named while it worked

    def wanted(self, payload: str) -> bool:
        if not payload:
            return False  # a clock that never falls due
        try:
            due = datetime.fromisoformat(payload)
        except ValueError:
            return True  # a payload naming no instant: look
        if due.tzinfo is None:
            return True
        if self.at is None:
            self.heard = due if self.heard is None else min(self.heard, due)
            return False
        return due < self.at

    def working(self) -> None:
        self.at = None
        self.heard = None

    def plan(self, next_at: datetime | None) -> datetime | None:
        """The earlier of the database's next due instant and any heard while working."""
        known = [t for t in (next_at, self.heard) if t is not None]
        return min(known, default=None)


async def sla_loop(ctx: WorkerContext) -> None:
    wake = ctx.wakeup(SLA_CHANNEL)
    alarm = Alarm()
    ctx.wake_if[SLA_CHANNEL] = alarm.wanted
    warming = asyncio.create_task(warm_up())  # a reference, so it is not collected
    while True:
        alarm.working()  # a NOTIFY from here on is heard, not lost
        wake.clear()
        began = time.monotonic()
        async with ctx.sla_turn, ctx.sessionmaker() as session:
            result = await fire_due_clocks(session, ctx.clock.now(), limit=BATCH)
            if result.fired:
                logger.info("sla thresholds recorded", extra={"clocks": result.fired})
            if result.claimed >= BATCH:
                continue  # more are due: no sleep
        now = ctx.clock.now()
        planned = alarm.plan(result.next_due_at)
        if result.claimed:
            # At work: the next sweep starts GATHER after this one began (at once when it took
            # longer), not a pause after it ended, whatever fell due meanwhile.
            delay = max(
                seconds_until(planned, now, if_past=0.0), GATHER - (time.monotonic() - began)
            )
        else:
            delay = seconds_until(planned, now)
        alarm.at = now + timedelta(seconds=delay)
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
