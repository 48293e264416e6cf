"""How far a reader of the events may go without skipping one that commits later.

Event ids are drawn from a sequence before their transaction commits, so ids
commit out of order: a reader that goes `id > cursor` past an id whose
transaction is still running would skip that event for good. Every event
writer takes its transaction id before it draws an event id (`record_event`
and its SQL fragment), so:

1. read the last id drawn, `drawn`;
2. then read the snapshot horizon `xmax`: every transaction that drew an id up
   to `drawn` has an xid below it;
3. once a snapshot's `xmin` reaches that horizon, all those transactions have
   committed or rolled back: every event up to `drawn` is final, and a reader
   may go as far as `drawn` (`settled`).

A reader keeps its watermark across polls; a pair waits while an older
transaction runs, and settles at a later look.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_LAST_DRAWN = text(
    "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('events', 'id')), 0)"
)

# The oldest transaction still running, other than the reader's own (its own events are
# visible to it: a test reads inside the transaction that wrote them), and the horizon.
# xid8 as text, then a number: both fit a bigint for the life of any cluster.
_HORIZON = text(
    "SELECT coalesce((SELECT min(x::text::bigint) FROM pg_snapshot_xip(s) AS x),"
    " pg_snapshot_xmax(s)::text::bigint), pg_snapshot_xmax(s)::text::bigint "
    "FROM pg_current_snapshot() AS s"
)

# How often a one-shot reader looks again while an older transaction is still running.
SETTLE_POLL_SECONDS = 0.02


@dataclass
class EventWatermark:
    """Every event id up to `settled` has committed or never will."""

    settled: int = 0
    # (last id drawn, the xid horizon read after it), oldest first
    waiting: list[tuple[int, int]] = field(default_factory=list)

    async def advance(self, session: AsyncSession) -> int:
        """Look again (two short statements, each with its own snapshot); return `settled`.

        The session is rolled back after, so it holds no connection or snapshot."""
        drawn = int((await session.execute(_LAST_DRAWN)).scalar_one())
        oldest_running, horizon = (await session.execute(_HORIZON)).one()
        await session.rollback()
        newest = self.waiting[-1][0] if self.waiting else self.settled
        if drawn > newest:
            self.waiting.append((drawn, int(horizon)))
        while self.waiting and self.waiting[0][1] <= int(oldest_running):
            self.settled = max(self.settled, self.waiting.pop(0)[0])
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
