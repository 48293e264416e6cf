"""Liveness, readiness and metrics for the orchestrator and Prometheus."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from app.core.errors import ServiceUnavailable
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


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
