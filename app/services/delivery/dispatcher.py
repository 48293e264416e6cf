"""The worker's webhook slots: who gets one, and the leases of those in flight.

Each endpoint has at most one attempt in flight: a claim takes the head of its queue
with the few deliveries behind it (its run), and one slot sends them one after
another, stopping at the first failure, so it receives its events in order. Different
endpoints' runs go at the same time, each over its endpoint's kept-alive connection. Outcomes are
recorded many at a time (one short transaction for whatever ended meanwhile), and a
run's slot is free again once its outcomes are recorded. Endpoints failing lately (a receiver that
hangs, drips or refuses) may hold at most half of the slots: a slow endpoint costs its
own queue and, with every other failing one, a share of the slots, never the healthy
endpoints' turn. Every attempt ends by `webhook_attempt_seconds`.

Claims are short leases; a keeper renews those in flight every third of a lease, so a
worker that dies (`kill -9`) lets its claims pass to another within one lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import Clock
from app.core.settings import Settings
from app.models import WebhookDelivery
from app.services.delivery.http1 import Timeouts, WebhookClient
from app.services.delivery.leases import renew_leases
from app.services.delivery.webhook_outcomes import Attempted, record_outcomes
from app.services.delivery.webhook_sender import (
    Claimed,
    _heads,
    claim_due,
    default_timeouts,
    post_once,
)

logger = logging.getLogger("carrierdesk.webhooks")

MAX_IN_FLIGHT = 64

# How many deliveries of one healthy endpoint one claim leases (sent one after another).
RUN = 20

# Seconds between two recordings of outcomes (a worker killed meanwhile sends those again).
RECORD_GAP = 0.02


def webhook_client() -> WebhookClient:
    """The HTTP client deliveries go out with: one kept-alive connection per endpoint, and
    redirects never followed (a receiver could point one at an address the guard refuses)."""
    return WebhookClient()


class WebhookDispatcher:
    """Keeps up to `max_in_flight` POSTs going, at most half for endpoints failing lately."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: Settings,
        http: WebhookClient,
        *,
        max_in_flight: int = MAX_IN_FLIGHT,
        run: int = RUN,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.settings = settings
        self.http = http
        self.max_in_flight = max_in_flight
        self.run = run
        self.failing_slots = max(1, max_in_flight // 2)
        # Connecting, and the answer; the attempt as a whole ends by its own deadline too.
        self.timeouts = timeouts or default_timeouts(settings)
        self.in_flight: set[asyncio.Task[None]] = set()
        self.failing_in_flight: set[asyncio.Task[None]] = set()
        # The claims whose leases are ours to renew; changed only under `_db`, so a
        # renewal never moves a lease past the outcome just recorded.
        self.held: dict[uuid.UUID, Claimed] = {}
        self.keeper: asyncio.Task[None] | None = None
        # Recording is short; serialising it lets tests share one connection.
        self._db = asyncio.Lock()
        self.on_recorded: Callable[[], None] | None = None
        # Outcomes waiting to be recorded, and the future their recording resolves.
        self.attempted: list[Attempted] = []
        self.unsent: list[Claimed] = []
        self.recorded: asyncio.Future[None] | None = None
        self.recorders: set[asyncio.Task[None]] = set()
        self.recorded_at = 0.0  # when the last recording began (monotonic)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.webhook_lease_seconds)

    async def claim_and_start(self) -> int:
        free = self.max_in_flight - len(self.in_flight)
        if free <= 0:
            return 0
        now = self.clock.now()
        async with self._db, self.sessionmaker() as session:
            healthy = _runs(
                await claim_due(session, now, free, self.lease, failing=False, run=self.run)
            )
            room = min(free - len(healthy), self.failing_slots - len(self.failing_in_flight))
            failing = []
            if room > 0:
                failing = _runs(await claim_due(session, now, room, self.lease, failing=True))
            for run in (*healthy, *failing):
                for item in run:
                    self.held[item.id] = item
        for run in healthy:
            self._start(run, failing=False)
        for run in failing:
            self._start(run, failing=True)
        if self.in_flight and (self.keeper is None or self.keeper.done()):
            self.keeper = asyncio.create_task(self._keep_leases())
        return sum(len(run) for run in (*healthy, *failing))

    def _start(self, run: list[Claimed], *, failing: bool) -> None:
        task = asyncio.create_task(self._send(run))
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)
        if failing:
            self.failing_in_flight.add(task)
            task.add_done_callback(self.failing_in_flight.discard)

    async def _send(self, run: list[Claimed]) -> None:
        """Post the run's deliveries in order until one fails; hand back the rest unsent."""
        for index, claimed in enumerate(run):
            at = self.clock.now()
            outcome = await post_once(self.http, claimed, at, self.settings, self.timeouts)
            self.attempted.append(Attempted(claimed, outcome, at))
            if not outcome.ok:
                self.unsent.extend(run[index + 1 :])
                break
            self._to_record()  # recorded as soon as can be, with whatever else ended
        await asyncio.shield(self._to_record())

    def _to_record(self) -> asyncio.Future[None]:
        """The recording that will take what is waiting now (resolved once it is written):
        the next one, started here if no one has; one at a time, each takes all waiting."""
        if self.recorded is None:
            self.recorded = asyncio.get_running_loop().create_future()
            recorder = asyncio.create_task(self._record(self.recorded))
            self.recorders.add(recorder)
            recorder.add_done_callback(self.recorders.discard)
        return self.recorded

    async def _record(self, done: asyncio.Future[None]) -> None:
        # At most one recording per RECORD_GAP: at a thousand deliveries a second, each takes
        # tens of outcomes in its one transaction (and the claim it wakes, tens of slots).
        await asyncio.sleep(self.recorded_at + RECORD_GAP - time.monotonic())
        try:
            async with self._db:
                self.recorded_at = time.monotonic()
                # Whatever ended up to now is ours; what ends from here waits for the next.
                self.recorded = None
                attempted, self.attempted = self.attempted, []
                unsent, self.unsent = self.unsent, []
                for item in (*(a.claimed for a in attempted), *unsent):
                    self.held.pop(item.id, None)
                try:
                    async with self.sessionmaker() as session:
                        await record_outcomes(session, attempted, unsent, self.clock.now())
                    logger.info("webhook attempts recorded", extra={"count": len(attempted)})
                except Exception:
                    # The leases run out and the deliveries are tried again: nothing lost.
                    logger.exception("could not record %d webhook attempts", len(attempted))
        finally:
            done.set_result(None)
        if self.on_recorded is not None:
            self.on_recorded()

    async def _keep_leases(self) -> None:
        """Renew the leases of the attempts in flight every third of a lease, until none is."""
        while self.held:
            await asyncio.sleep(self.settings.webhook_lease_seconds / 3)
            try:
                async with self._db:
                    held = [c.lease_key for c in self.held.values()]
                    renewal = renew_leases(WebhookDelivery, held, self.clock.now() + self.lease)
                    if renewal is None:
                        return
                    async with self.sessionmaker() as session:
                        await session.execute(renewal)
                        await session.commit()
            except Exception:  # the next round tries again; a lapse only risks a re-send
                logger.exception("could not renew webhook leases")

    async def stop_keeping(self) -> None:
        if self.keeper is not None:
            self.keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.keeper
            self.keeper = None

    async def run_until_idle(self) -> int:
        """Claim and send until nothing is due and nothing is in flight; return how many sent."""
        sent = 0
        while True:
            started = await self.claim_and_start()
            sent += started
            if not self.in_flight:
                if started == 0:
                    await self.stop_keeping()
                    return sent
                continue
            await asyncio.wait(set(self.in_flight), return_when=asyncio.FIRST_COMPLETED)

    async def next_due(self) -> datetime | None:
        heads = _heads()
        async with self._db, self.sessionmaker() as session:
            return (
                await session.execute(select(func.min(heads.c.next_attempt_at)))
            ).scalar_one_or_none()


def _runs(claimed: list[Claimed]) -> list[list[Claimed]]:
    """Claimed deliveries (grouped by endpoint, in event order) as one run per endpoint."""
    runs: dict[uuid.UUID, list[Claimed]] = {}
    for item in claimed:
        runs.setdefault(item.endpoint_id, []).append(item)
    return list(runs.values())
