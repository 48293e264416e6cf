"""The FastAPI application: built by `create_app`, run by `carrierdesk serve`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.telemetry import TelemetryConfig
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import (
    __version__,
    event_catalog,  # noqa: F401  (fills the event registry)
)
from app.core.caller_cache import CallerCache
from app.core.clock import Clock, SystemClock
from app.core.database import create_engine, create_sessionmaker
from app.core.errors import PROBLEM_RESPONSES, document_problems, install_error_handlers
from app.core.idempotency import install_replay_handler
from app.core.middleware import RequestContextMiddleware, UploadRoutes
from app.core.settings import Settings, get_settings
from app.openapi_doc import finish_document
from app.routers import ALL_ROUTERS
from app.routers.docs import mount_docs
from app.services.attachments.rules import FORM_OVERHEAD_BYTES, UPLOAD_PATH, mebibytes
from app.services.identity.authentication import resolve_caller_until

DESCRIPTION = """
Carrier Desk runs the customer care of a network carrier: trouble tickets worked
through the incident lifecycle with an SLA engine, orders and their delivery
touchpoints, billing requests and disputes, change requests, planned
maintenance, and the directory of whom to call in each country.

Conventions: JSON in snake_case, times in RFC 3339 UTC, errors as RFC 9457
`application/problem+json`, keyset pagination (`limit`, `cursor` →
`next_cursor`) with `updated_since` on every list, `Idempotency-Key` on every
creating POST, `ETag` on reads and `If-Match` on writes.
"""


# FastAPI's native OpenTelemetry off (`settings.opentelemetry`).
_NO_TELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


def create_app(
    settings: Settings | None = None,
    *,
    database_url: str | None = None,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    engine: Any = None,
    clock: Clock | None = None,
    run_worker: bool = False,
) -> FastAPI:
    """Build the app. Tests pass their own sessionmaker and clock; `serve` passes a URL."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned_engine = None
        if sessionmaker is None:
            if database_url is None:
                raise RuntimeError("create_app needs a database_url or a sessionmaker")
            owned_engine = create_engine(database_url, pool_size=settings.db_pool_size)
            app.state.engine = owned_engine
            app.state.sessionmaker = create_sessionmaker(owned_engine)
        # Remembered callers are trusted only while this listener hears every change (a
        # test app without a URL of its own asks the database on every request).
        listener = None
        if database_url is not None:
            listener = asyncio.create_task(callers.listen_forever(database_url))
        worker = None
        if run_worker:
            from app.workers.worker import Worker

            assert database_url is not None
            worker = Worker(settings, database_url, app.state.sessionmaker, app.state.clock)
            await worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            if listener is not None:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener
            if owned_engine is not None:
                await owned_engine.dispose()

    app = FastAPI(
        title="Carrier Desk",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        telemetry=None if settings.opentelemetry else _NO_TELEMETRY,
    )
    app.state.settings = settings
    callers = CallerCache(resolve_caller_until)
    app.state.callers = callers
    app.state.resolve_caller = callers.resolve
    app.state.remembered_caller = callers.remembered
    app.state.clock = clock or SystemClock()
    if sessionmaker is not None:
        app.state.sessionmaker = sessionmaker
        app.state.engine = engine
    install_error_handlers(app)
    install_replay_handler(app)
    for router in ALL_ROUTERS:  # the ticket routes first: see app.routers
        app.include_router(router, responses=PROBLEM_RESPONSES)
    mount_docs(app)
    document_problems(app)
    finish_document(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "If-Match",
                "Last-Event-ID",
            ],
            expose_headers=["ETag", "X-Request-ID", "Location", "Retry-After"],
            max_age=600,
        )
    uploads = UploadRoutes(
        path=UPLOAD_PATH,
        max_body_bytes=settings.attachment_max_bytes + FORM_OVERHEAD_BYTES,
        too_large=f"a file may hold at most {mebibytes(settings.attachment_max_bytes)}",
    )
    app.add_middleware(
        RequestContextMiddleware, max_body_bytes=settings.max_body_bytes, uploads=uploads
    )
    return app
