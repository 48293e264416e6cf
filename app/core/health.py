"""Readiness: can this replica serve requests right now?"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.migrations import is_at_head


async def check_readiness(engine: AsyncEngine) -> str | None:
    """None when ready; otherwise what is wrong, in words an operator can act on."""
    try:
        at_head = await asyncio.wait_for(is_at_head(engine), timeout=3)
    except Exception as exc:  # any failure to reach the database means not ready
        return f"database unreachable: {type(exc).__name__}"
    if not at_head:
        return "database schema is not at the latest migration; run `carrierdesk migrate`"
    return None
