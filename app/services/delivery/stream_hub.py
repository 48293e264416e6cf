"""The process's live event streams, and what they share.

One poller per process advances the event watermark (`EventWatermark`) for
every stream and wakes them when it moves; a stream waits on that wake-up with
no database connection, and borrows a pooled one only to read its batch. The
poller runs while at least one stream is open. Streams per caller are capped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.errors import TooManyRequests
from app.core.event_watermark import EventWatermark
from app.core.settings import Settings
from app.core.tenancy import Caller

logger = logging.getLogger("carrierdesk.stream")

# How soon the poller looks again while an older transaction holds newer events back.
SETTLE_RECHECK_SECONDS = 0.05


class StreamHub:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.watermark = EventWatermark()
        self.open: Counter[str] = Counter()
        self._moved = asyncio.Event()
        self._ready = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None

    def admit(
        self, caller: Caller, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> Callable[[], None]:
        """Count one more stream for `caller`, or refuse it (429) at the cap. Answers the
        stream's release: call it when the stream ends (more than once does no harm)."""
        cap = self.settings.stream_max_per_caller
        principal = caller.principal
        if self.open[principal] >= cap:
            raise TooManyRequests(
                f"at most {cap} open event streams per caller; close one first",
                max_streams=cap,
            )
        self.open[principal] += 1
        self._sessionmaker = sessionmaker
        if self._poller is None or self._poller.done():
            self._ready = asyncio.Event()
            self._poller = asyncio.create_task(self._poll())
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._leave(principal)

        return release

    def _leave(self, principal: str) -> None:
        self.open[principal] -= 1
        if self.open[principal] <= 0:
            del self.open[principal]
        if not self.open and self._poller is not None:
            self._poller.cancel()
            self._poller = None

    async def settled(self) -> int:
        """Every event id up to this one has committed or never will (waits for the first
        look after the poller starts)."""
        await self._ready.wait()
        return self.watermark.settled

    def next_move(self) -> asyncio.Event:
        """Set when the watermark next moves (take it before reading, then wait on it)."""
        return self._moved

    async def _poll(self) -> None:
        assert self._sessionmaker is not None
        while True:
            before = self.watermark.settled
            try:
                async with self._sessionmaker() as session:
                    if not self._ready.is_set():
                        await self.watermark.settle(session)
                    else:
                        await self.watermark.advance(session)
                # Streams start only after a look that worked: from a watermark of 0, a new
                # stream would start at the beginning of the caller's history.
                self._ready.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a database hiccup: the streams wait for the next look
                logger.warning("event watermark look failed: %s", type(exc).__name__)
            if self.watermark.settled != before:
                moved, self._moved = self._moved, asyncio.Event()
                moved.set()
            await asyncio.sleep(
                SETTLE_RECHECK_SECONDS
                if self.watermark.waiting
                else self.settings.stream_poll_seconds
            )


def hub_of(state: Any) -> StreamHub:
    """The app's hub (one per process), made on first use."""
    hub: StreamHub | None = getattr(state, "stream_hub", None)
    if hub is None:
        hub = state.stream_hub = StreamHub(state.settings)
    return hub


async def wait_for_move(moved: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(moved.wait(), timeout=max(seconds, 0.0))
