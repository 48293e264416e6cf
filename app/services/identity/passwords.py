"""argon2 off the event loop: each hash or check runs in a thread, a few at a time.

argon2 is made to be slow and memory-hungry; run on the event loop it would stall every
other request, and run without a bound a burst of sign-ins would exhaust memory. Callers
wait their turn on a semaphore instead. An unknown account is checked against a fixed
dummy hash (`app.core.security.verify_password`), so it costs the same as a known one.
"""

from __future__ import annotations

import asyncio
import weakref

from app.core import security

CONCURRENT_HASHES = 2

# One semaphore per event loop: an asyncio semaphore belongs to the loop it first waits on.
_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _turn() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    turn = _turns.get(loop)
    if turn is None:
        turn = _turns[loop] = asyncio.Semaphore(CONCURRENT_HASHES)
    return turn


async def hash_password(password: str) -> str:
    async with _turn():
        return await asyncio.to_thread(security.hash_password, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; always false, at the same cost, without a hash."""
    async with _turn():
        return await asyncio.to_thread(security.verify_password, password_hash, password)
