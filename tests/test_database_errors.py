"""What a client sees when the database, not the request, is the problem.

The real outage is proven with processes in test_reliability_database.py; the
exact timing of a crash is luck there, so each shape of failure the driver can
raise is pinned here on a bare app with the project's error handlers.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from app.core.errors import install_error_handlers


class _Orig(Exception):
    def __init__(self, sqlstate: str | None, message: str = "boom") -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _app(orig: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/x")
    async def fail() -> None:
        raise DBAPIError("SELECT 1", {}, orig)

    return app


@pytest.mark.parametrize(
    ("sqlstate", "status"),
    [
        ("57P01", 503),  # admin_shutdown: the server is stopping
        ("57P03", 503),  # cannot_connect_now: the server is starting
        ("08006", 503),  # connection_failure
        ("22008", 422),  # datetime_field_overflow: the client's value
        (None, 500),  # anything else stays an internal error, logged
    ],
)
async def test_driver_errors_map_to_what_the_client_can_do(
    sqlstate: str | None, status: int
) -> None:
    transport = httpx.ASGITransport(app=_app(_Orig(sqlstate)), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/x")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    if status == 503:
        assert int(response.headers["retry-after"]) > 0
