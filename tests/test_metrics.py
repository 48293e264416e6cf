"""`/metrics` tells traffic and error rates: only a scraper with the token, or on its own address.

Without `CARRIERDESK_METRICS_TOKEN` or `CARRIERDESK_METRICS_BIND`, the public port answers 404;
with the token it answers its bearer only; with the bind address a real `serve` process serves
the metrics there and still 404 on the public port.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.settings import Settings
from app.main import create_app
from tests.support.processes import Fleet, free_port

SERIES = "carrierdesk_http_requests_total"


def _client(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> httpx.AsyncClient:
    app = create_app(settings, sessionmaker=sessionmaker)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_metrics_are_not_served_publicly_unless_configured(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with _client(settings, sessionmaker) as client:
        await client.get("/healthz")  # some traffic to count
        answer = await client.get("/metrics")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert SERIES not in answer.text


async def test_metrics_answer_only_the_bearer_of_the_metrics_token(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = "metrics-" + "x" * 32
    configured = Settings.model_validate({**settings.model_dump(), "metrics_token": token})
    async with _client(configured, sessionmaker) as client:
        await client.get("/healthz")
        anonymous = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        scraper = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert anonymous.status_code == 401
    assert wrong.status_code == 401
    assert SERIES not in anonymous.text + wrong.text
    assert scraper.status_code == 200
    assert SERIES in scraper.text


@pytest.fixture
def fleet(fresh_database: str) -> Iterator[Fleet]:
    fleet = Fleet(fresh_database)
    try:
        yield fleet
    finally:
        fleet.close()


@pytest.mark.processes
def test_serve_answers_metrics_on_the_separate_bind_address_only(fleet: Fleet) -> None:
    metrics_port = free_port()
    api = fleet.api(CARRIERDESK_METRICS_BIND=f"127.0.0.1:{metrics_port}")
    api.wait_ready()
    public = httpx.get(api.base_url + "/metrics", timeout=10)
    assert public.status_code == 404, public.text
    scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
    assert scraped.status_code == 200, fleet.logs()
    assert SERIES in scraped.text
    # The metrics address serves nothing of the API.
    assert httpx.get(f"http://127.0.0.1:{metrics_port}/v1/tickets", timeout=10).status_code == 404
