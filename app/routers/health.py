"""Liveness, readiness and metrics for the orchestrator and Prometheus."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from app.core.deps import SettingsDep
from app.core.errors import NotFound, ServiceUnavailable, Unauthorized
from app.core.health import check_readiness

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str


@router.get("/healthz", summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", summary="The database answers and its schema is at the latest migration")
async def readyz(request: Request) -> Health:
    problem = await check_readiness(request.app.state.engine)
    if problem:
        raise ServiceUnavailable(problem, headers={"Retry-After": "5"})
    return Health(status="ready")


async def _metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


_scraper = HTTPBearer(
    auto_error=False, scheme_name="MetricsToken", description="CARRIERDESK_METRICS_TOKEN"
)


@router.get(
    "/metrics",
    summary="Prometheus metrics (a bearer of CARRIERDESK_METRICS_TOKEN only)",
    description="Answers 404 unless `CARRIERDESK_METRICS_TOKEN` is set, and 401 without that "
    "token. With `CARRIERDESK_METRICS_BIND` the metrics are served, without a token, on that "
    "separate address instead.",
    response_class=Response,
)
async def metrics(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_scraper)],
) -> Response:
    expected = settings.metrics_token
    if expected is None:
        raise NotFound("metrics are not served on this address")
    given = credentials.credentials if credentials is not None else ""
    if not hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
        raise Unauthorized("the metrics token is required")
    return await _metrics()


def metrics_app() -> FastAPI:
    """The app `serve` runs on `CARRIERDESK_METRICS_BIND`: `/metrics` and nothing else, for a
    scraper on an address the public cannot reach."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.add_api_route("/metrics", _metrics, methods=["GET"], response_class=Response)
    return app
