"""Periodic clean-ups of rows that only matter for a while."""

from __future__ import annotations

from app.services.identity import signin
from app.workers.context import WorkerContext

# Often enough that a flood of made-up sign-in names is gone a day later.
THROTTLE_CLEANUP_SECONDS = 600.0


async def forget_stale_throttles(ctx: WorkerContext) -> int:
    """Sign-in failure counters quiet for a day, and blocking nothing, removed."""
    async with ctx.sessionmaker() as session:
        return await signin.forget_stale_throttles(session, ctx.clock)
