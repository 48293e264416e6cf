"""Real `carrierdesk worker` processes against a committed test database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

ROOT = Path(__file__).resolve().parents[2]

# The worker's LISTEN connection (asyncpg, no application_name) once it has subscribed.
_LISTENERS = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND application_name = '' AND (query ILIKE 'LISTEN%' OR query = 'SELECT 1')"
)


T = TypeVar("T")


async def poll(predicate: Callable[[], Awaitable[T]], *, within: float, interval: float = 0.1) -> T:
    """Await `predicate()` until it returns something truthy, or fail after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s (last: {value!r})")
        await asyncio.sleep(interval)


def _spawn(env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["uv", "run", "--quiet", "carrierdesk", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,  # its own process group: we stop exactly what we started
    )


@asynccontextmanager
async def running_workers(
    database_url: str, maker: async_sessionmaker[AsyncSession], count: int
) -> AsyncIterator[list[subprocess.Popen[bytes]]]:
    env = {
        **os.environ,
        "CARRIERDESK_DATABASE_URL": database_url,
        "CARRIERDESK_LOG_LEVEL": "WARNING",
    }
    logs = [tempfile.TemporaryFile() for _ in range(count)]
    procs = [_spawn(env, log) for log in logs]
    try:

        async def listening() -> bool:
            for proc, log in zip(procs, logs, strict=True):
                if proc.poll() is not None:
                    log.seek(0)
                    err = log.read().decode(errors="replace")
                    raise AssertionError(f"worker exited early: {err[-2000:]}")
            async with maker() as session:
                return int((await session.execute(_LISTENERS)).scalar_one()) >= count

        await poll(listening, within=60, interval=0.2)
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        for log in logs:
            log.close()
