"""How far a reader of the events may go without skipping one that commits later.

Event ids are drawn from a sequence before their transaction commits, so ids
commit out of order: a reader that goes `id > cursor` past an id whose
transaction is still running would skip that event for good. Every event
writer takes its transaction id (xid) before it draws an event id
(`record_event` and its SQL fragment), so:

1. read the last id drawn, `drawn`;
2. then read the xids of the transactions running in this database: every
   transaction that drew an id up to `drawn` and has not ended is among them;
3. once none of those is running any more, every event up to `drawn` has
   committed or never will: a reader may go as far as `drawn` (`settled`).

The running transactions are read from `pg_stat_activity.backend_xid`, not from
a snapshot: a snapshot's `xmax` is the last completed xid plus one, and leaves
out a running transaction whose xid was assigned after that. Other databases of
the cluster, and the reader's own connection (a test reads inside the
transaction that wrote), are left out. A reader keeps its watermark across
looks; a pair waits while one of its transactions runs, and settles later.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import driver_connection

# Both on the driver, outside any transaction (each its own): through SQLAlchemy, a look cost
# more than the fan-out of a small batch (a BEGIN, two compiled statements, a ROLLBACK).
_LAST_DRAWN = "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('events', 'id')), 0)"

# pg_stat_activity is read once per transaction (PostgreSQL caches it until the transaction
# ends), so each look is its own transaction, and this statement comes after `_LAST_DRAWN`.
_RUNNING = (
    "SELECT coalesce(array_agg(backend_xid::text::bigint), '{}') FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND backend_xid IS NOT NULL"
)

# How often a one-shot reader looks again while an older transaction is still running.
SETTLE_POLL_SECONDS = 0.02


@dataclass
class EventWatermark:
    """Every event id up to `settled` has committed or never will."""

    settled: int = 0
    # (last id drawn, the transactions running right after), oldest first
    waiting: list[tuple[int, frozenset[int]]] = field(default_factory=list)

    async def advance(self, session: AsyncSession) -> int:
        """Look again (two short statements, each a transaction of its own, unless the session
        has one open); return `settled`.

        The session is rolled back after, so it holds no connection or snapshot."""
        driver = await driver_connection(session)
        drawn = int(await driver.fetchval(_LAST_DRAWN))
        running = frozenset(await driver.fetchval(_RUNNING))
        await session.rollback()
        while self.waiting and not (self.waiting[0][1] & running):
            self.settled = max(self.settled, self.waiting.pop(0)[0])
        newest = self.waiting[-1][0] if self.waiting else self.settled
        if drawn > newest:
            if running:
                self.waiting.append((drawn, running))
            else:
                self.waiting.clear()
                self.settled = drawn
        return self.settled

    async def settle(self, session: AsyncSession, *, within: float = 10.0) -> int:
        """Wait until every id drawn before this call has settled (a one-shot reader, such as a
        test draining the outbox), or `within` seconds pass; return `settled`."""
        await self.advance(session)
        target = self.waiting[-1][0] if self.waiting else self.settled
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.settled < target and loop.time() < deadline:
            await asyncio.sleep(SETTLE_POLL_SECONDS)
            await self.advance(session)
        return self.settled
