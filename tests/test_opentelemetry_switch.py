"""FastAPI's own OpenTelemetry runs only when an operator turns it on (`CARRIERDESK_OPENTELEMETRY`):
off, a request does not even ask OpenTelemetry whether a provider is configured."""

from __future__ import annotations

from typing import Any

import httpx
import opentelemetry.trace
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.clock import FrozenClock
from app.core.settings import Settings
from app.main import create_app


@pytest.mark.parametrize("enabled", [False, True])
async def test_fastapis_telemetry_is_asked_for_only_when_turned_on(
    enabled: bool,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    engine: AsyncEngine,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []
    unconfigured = opentelemetry.trace.get_tracer_provider

    def counted() -> Any:
        asked.append("tracer provider")
        return unconfigured()

    monkeypatch.setattr(opentelemetry.trace, "get_tracer_provider", counted)
    app = create_app(
        settings.model_copy(update={"opentelemetry": enabled}),
        sessionmaker=sessionmaker,
        engine=engine,
        clock=clock,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        for _ in range(3):
            assert (await client.get("/healthz")).status_code == 200
    assert bool(asked) is enabled
