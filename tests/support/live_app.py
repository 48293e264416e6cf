"""The app on a committed database of the test's own, with a real connection pool: for tests
whose claim is about real transactions and connections (the usual fixtures share one)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx

from app.core.clock import FrozenClock
from app.core.database import create_engine, create_sessionmaker
from app.core.settings import Settings
from app.main import create_app
from tests.support.world import World


@contextlib.asynccontextmanager
async def live_app(
    database_url: str, settings: Settings, *, pool_size: int = 5
) -> AsyncIterator[tuple[World, Any]]:
    """A `World` driving the app through ASGI, and the app (to serve over HTTP as well)."""
    engine = create_engine(database_url, pool_size=pool_size)
    try:
        maker = create_sessionmaker(engine)
        clock = FrozenClock(datetime.now(UTC))
        app = create_app(settings, sessionmaker=maker, engine=engine, clock=clock)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield await World.start(client, maker, clock), app
    finally:
        await engine.dispose()
