"""Bearer token -> Caller, remembered in the process so a request need not ask the database.

What a token resolves to changes only when a use case changes it (an API client revoked, a
session signed out or refreshed, a user revoked or given another role or enterprises, an
invitation accepted, the bootstrap administrator re-seeded). Each of those calls
`callers_changed(session)` in its own transaction: a NOTIFY that PostgreSQL delivers at commit,
to every process's listener, which forgets every remembered caller. A revocation therefore
holds everywhere as soon as the NOTIFY arrives (well within a second), not after a TTL.

The cache is only trusted while its listener is connected: until the LISTEN is in place, and
from the moment its connection is lost until it is back, every request asks the database, so
a NOTIFY missed while disconnected cannot keep a revoked token alive. A short TTL, and the
access token's own expiry, are the safety net behind it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import SERVER_SETTINGS, as_libpq_url
from app.core.tenancy import Caller

logger = logging.getLogger("carrierdesk.callers")

CALLERS_CHANNEL = "carrierdesk_callers"
_NOTIFY = text(f"SELECT pg_notify('{CALLERS_CHANNEL}', '')")

# What a token resolves to, and until when it holds on its own (an access token's expiry);
# None when only a revocation ends it.
ResolveWithExpiry = Callable[
    [AsyncSession, str, datetime], Awaitable[tuple[Caller, datetime | None]]
]


async def callers_changed(session: AsyncSession) -> None:
    """Tell every process, at this transaction's commit, to forget the callers it remembers.
    Its own statement, so on Citus it runs on the coordinator, where the listeners are."""
    await session.execute(_NOTIFY)


@dataclass(slots=True)
class _Entry:
    caller: Caller
    valid_until: datetime | None
    stored_at: float


class CallerCache:
    """A bounded map of token -> Caller in front of `resolve`, trusted only while listening."""

    def __init__(
        self, resolve: ResolveWithExpiry, *, max_entries: int = 10_000, ttl: float = 30.0
    ) -> None:
        self._resolve = resolve
        self._entries: dict[str, _Entry] = {}
        self.max_entries = max_entries
        self.ttl = ttl
        # Bumped by every NOTIFY and every change of the listener's state: a look-up that
        # began before one does not store what it read (it may predate the change).
        self._generation = 0
        self.listening = False

    # --- the listener's state machine -----------------------------------------------------

    def forget_all(self) -> None:
        self._generation += 1
        self._entries.clear()

    def listener_connected(self) -> None:
        """The LISTEN is in place: from now on every change is heard, so remember again."""
        self.forget_all()
        self.listening = True

    def listener_lost(self) -> None:
        """A NOTIFY may go unheard from now on: forget everything and remember nothing."""
        self.listening = False
        self.forget_all()

    # --- resolution -------------------------------------------------------------------------

    def remembered(self, token: str, now: datetime) -> Caller | None:
        """The caller `token` resolved to, if it is remembered and may still be trusted."""
        if not self.listening:
            return None
        entry = self._entries.get(token)
        if entry is None:
            return None
        fresh = time.monotonic() - entry.stored_at < self.ttl
        if fresh and (entry.valid_until is None or now < entry.valid_until):
            return entry.caller
        self._entries.pop(token, None)
        return None

    async def resolve(self, session: AsyncSession, token: str, now: datetime) -> Caller:
        """The `CallerResolver` the app installs (`app.core.deps.get_caller`)."""
        remembered = self.remembered(token, now)
        if remembered is not None:
            return remembered
        generation = self._generation
        caller, valid_until = await self._resolve(session, token, now)
        if self.listening and generation == self._generation:
            if len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[token] = _Entry(caller, valid_until, time.monotonic())
        return caller

    def __len__(self) -> int:
        return len(self._entries)

    # --- the listener -----------------------------------------------------------------------

    async def listen_forever(self, database_url: str, *, keepalive: float = 1.0) -> None:
        """Hold a LISTEN connection; on any loss mark the cache untrusted and reconnect."""
        backoff = 0.2
        while True:
            conn: Any = None
            lost = asyncio.Event()
            try:
                conn = await asyncpg.connect(
                    as_libpq_url(database_url),
                    server_settings={"application_name": "carrierdesk-callers"}
                    | {"timezone": SERVER_SETTINGS["timezone"]},
                )
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(CALLERS_CHANNEL, lambda *_args: self.forget_all())
                self.listener_connected()
                backoff = 0.2
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), timeout=keepalive)
                    except TimeoutError:
                        # A socket that died without a word (no RST) is noticed within a
                        # keepalive or two, not at the next NOTIFY it would have missed.
                        await asyncio.wait_for(conn.execute("SELECT 1"), timeout=keepalive)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("caller listener lost: %s; reconnecting", type(exc).__name__)
            finally:
                self.listener_lost()
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
