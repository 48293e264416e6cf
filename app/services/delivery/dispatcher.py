"""The worker's webhook slots: who gets one, and the leases of those in flight.

Each endpoint has at most one attempt in flight (a claim takes only the head of its
queue, so it receives its events in order). Endpoints failing lately (a receiver that
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
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import Clock
from app.core.settings import Settings
from app.models import WebhookDelivery
from app.services.delivery.leases import renew_leases
from app.services.delivery.webhook_sender import (
    Claimed,
    _heads,
    claim_due,
    post_once,
    record_outcome,
)

logger = logging.getLogger("carrierdesk.webhooks")


def webhook_client() -> httpx.AsyncClient:
    """The HTTP client deliveries go out with (redirects are not followed: a receiver
    could point one at an address the guard refuses)."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
    return httpx.AsyncClient(limits=limits, follow_redirects=False)


class WebhookDispatcher:
    """Keeps up to `max_in_flight` POSTs going, at most half for endpoints failing lately."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: Settings,
        http: httpx.AsyncClient,
        *,
        max_in_flight: int = 32,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.settings = settings
        self.http = http
        self.max_in_flight = max_in_flight
        self.failing_slots = max(1, max_in_flight // 2)
        # Per step (connect, each read); the attempt as a whole ends by its own deadline.
        self.timeout = timeout or httpx.Timeout(settings.webhook_attempt_seconds, connect=5.0)
        self.in_flight: set[asyncio.Task[None]] = set()
        self.failing_in_flight: set[asyncio.Task[None]] = set()
        # The claims whose leases are ours to renew; changed only under `_db`, so a
        # renewal never moves a lease past the outcome just recorded.
        self.held: dict[uuid.UUID, Claimed] = {}
        self.keeper: asyncio.Task[None] | None = None
        # Recording is short; serialising it lets tests share one connection.
        self._db = asyncio.Lock()
        self.on_recorded: Callable[[], None] | None = None

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.webhook_lease_seconds)

    async def claim_and_start(self) -> int:
        free = self.max_in_flight - len(self.in_flight)
        if free <= 0:
            return 0
        now = self.clock.now()
        async with self._db, self.sessionmaker() as session:
            healthy = await claim_due(session, now, free, self.lease, failing=False)
            room = min(free - len(healthy), self.failing_slots - len(self.failing_in_flight))
            failing = []
            if room > 0:
                failing = await claim_due(session, now, room, self.lease, failing=True)
            for item in (*healthy, *failing):
                self.held[item.id] = item
        for item in healthy:
            self._start(item, failing=False)
        for item in failing:
            self._start(item, failing=True)
        if self.in_flight and (self.keeper is None or self.keeper.done()):
            self.keeper = asyncio.create_task(self._keep_leases())
        return len(healthy) + len(failing)

    def _start(self, claimed: Claimed, *, failing: bool) -> None:
        task = asyncio.create_task(self._send(claimed))
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)
        if failing:
            self.failing_in_flight.add(task)
            task.add_done_callback(self.failing_in_flight.discard)

    async def _send(self, claimed: Claimed) -> None:
        at = self.clock.now()
        outcome = await post_once(self.http, claimed, at, self.settings, self.timeout)
        try:
            async with self._db:
                self.held.pop(claimed.id, None)
                async with self.sessionmaker() as session:
                    await record_outcome(session, claimed, outcome, at, self.clock.now())
            logger.info(
                "webhook attempt recorded",
                extra={"message_id": claimed.message_id, "status_code": outcome.status_code},
            )
        except Exception:
            # The lease runs out and the delivery is tried again: nothing lost.
            logger.exception("could not record webhook attempt %s", claimed.message_id)
        if self.on_recorded is not None:
            self.on_recorded()

    async def _keep_leases(self) -> None:
        """Renew the leases of the attempts in flight every third of a lease, until none is."""
        while self.held:
            await asyncio.sleep(self.settings.webhook_lease_seconds / 3)
            try:
                async with self._db:
                    held = [(c.id, c.attempts) for c in self.held.values()]
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
