"""What every worker job is handed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import Clock
from app.core.settings import Settings


@dataclass
class WorkerContext:
    settings: Settings
    database_url: str
    sessionmaker: async_sessionmaker[AsyncSession]
    clock: Clock
    # One event per NOTIFY channel; a loop waits on its channel's event, so
    # the API can wake it the moment it writes something due sooner.
    wakeups: dict[str, asyncio.Event] = field(default_factory=dict)
    # The SLA loop and its safety sweep take turns: one claimer per process fires the due
    # clocks in due order (claimers in several processes may interleave; each is in order).
    # The outbox fan-out waits for a sweep under way before it starts a batch.
    sla_turn: asyncio.Lock = field(default_factory=asyncio.Lock)

    # A loop may say which NOTIFY payloads need it now (the SLA loop: a due instant before the
    # one it already sleeps until); the others leave it asleep. No filter: every NOTIFY wakes.
    wake_if: dict[str, Callable[[str], bool]] = field(default_factory=dict)

    def wakeup(self, channel: str) -> asyncio.Event:
        return self.wakeups.setdefault(channel, asyncio.Event())

    def notified(self, channel: str, payload: str) -> None:
        wanted = self.wake_if.get(channel)
        if wanted is None or wanted(payload):
            self.wakeup(channel).set()
