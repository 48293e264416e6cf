"""What operators rely on: settings that refuse unsafe production, CORS, readiness."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.clock import FrozenClock
from app.core.settings import Settings
from app.main import create_app


def test_production_refuses_an_embedded_database() -> None:
    with pytest.raises(ValidationError, match="CARRIERDESK_DATABASE_URL"):
        Settings(env="production", admin_token="x" * 40, database_url=None)


def test_production_refuses_to_start_without_an_admin_bootstrap() -> None:
    with pytest.raises(ValidationError, match="CARRIERDESK_ADMIN_TOKEN"):
        Settings(env="production", database_url="postgresql://db/carrierdesk")


def test_production_refuses_a_short_admin_token() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(env="production", database_url="postgresql://db/cd", admin_token="short")


async def test_cors_allows_only_the_configured_portal(
    sessionmaker: async_sessionmaker[AsyncSession], engine: AsyncEngine, clock: FrozenClock
) -> None:
    settings = Settings(env="test", cors_origins=["https://portal.example"])
    app = create_app(settings, sessionmaker=sessionmaker, engine=engine, clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        allowed = await client.options(
            "/v1/enterprises",
            headers={"Origin": "https://portal.example", "Access-Control-Request-Method": "GET"},
        )
        refused = await client.options(
            "/v1/enterprises",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )
    assert allowed.headers["access-control-allow-origin"] == "https://portal.example"
    assert "access-control-allow-origin" not in refused.headers


async def test_readyz_answers_ready_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


async def test_readyz_fails_with_a_problem_when_the_database_is_unreachable(
    sessionmaker: async_sessionmaker[AsyncSession], clock: FrozenClock
) -> None:
    from app.core.database import create_engine

    dead = create_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", pool_size=1)
    app = create_app(Settings(env="test"), sessionmaker=sessionmaker, engine=dead, clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await client.get("/readyz")
    await dead.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
