"""RFC 9457 problem details: the one shape of every error the API answers."""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://carrierdesk.dev/problems/"

logger = logging.getLogger("carrierdesk.errors")


class Problem(Exception):
    """An error a client can act on. Raise it from services; routers never build responses."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init_subclass__(
        cls, *, status: int | None = None, title: str | None = None, slug: str | None = None
    ) -> None:
        """A problem type is declared in its class line: `class Forbidden(Problem, status=403,
        title="Not allowed")`. Its `type` is the class name in kebab case unless `slug` says
        otherwise; a subclass that declares nothing keeps its parent's."""
        super().__init_subclass__()
        if status is not None:
            cls.status = status
            cls.slug = slug or re.sub(r"(?<!^)(?=[A-Z])", "-", cls.__name__).lower()
        if title is not None:
            cls.title = title

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class NotFound(Problem, status=404, title="Not found"): ...


class Unauthorized(Problem, status=401, title="Not signed in"):
    def __init__(self, detail: str = "a valid bearer token is required", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(Problem, status=403, title="Not allowed"): ...


class Conflict(Problem, status=409, title="Conflict"): ...


class IllegalMove(Conflict, status=409, title="Not allowed in the current state"):
    """The one answer to a move a resource's table does not allow from its current state:
    it names the state and the moves that are allowed from it."""

    def __init__(self, what: str, current: str, attempted: str, allowed: list[str]) -> None:
        moves = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"the {what} is {current} and cannot {attempted}; allowed from {current}: {moves}",
            current_status=current,
            allowed_moves=allowed,
        )


class PreconditionFailed(Problem, status=412, title="Stale write"): ...


class PayloadTooLarge(Problem, status=413, title="Body too large"): ...


class UnsupportedMediaType(Problem, status=415, title="Unsupported content type"): ...


class Unprocessable(Problem, status=422, slug="validation-error", title="Invalid request"): ...


class TooManyRequests(Problem, status=429, title="Too many requests"): ...


class ServiceUnavailable(Problem, status=503, title="Service unavailable"): ...


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


def document_problems(app: FastAPI) -> None:
    """Add the `Problem` schema that `PROBLEM_RESPONSES` refers to to the app's document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                PROBLEM_SCHEMA
            )
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


# Every operation documents what it really answers on failure: a problem
# document (never FastAPI's default validation shape), and 503 with
# Retry-After while the database is away. Schemathesis holds the API to it.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "A problem (RFC 9457): bad input, not found, not allowed, conflict",
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    },
    503: {
        "description": "The database is unavailable; retry after the given seconds",
        "headers": {"Retry-After": {"schema": {"type": "string"}}},
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    },
}


def field_error(field: str, message: str) -> Unprocessable:
    """A 422 that names the one field at fault."""
    return Unprocessable(f"{field}: {message}", errors=[{"field": field, "message": message}])


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    instance = request.url.path if request is not None else None
    return JSONResponse(
        problem.body(instance),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if rest else where
    return ".".join(parts)


def _failure(err: dict[str, Any]) -> dict[str, Any]:
    loc = err.get("loc", ())
    if err.get("type") == "json_invalid":
        # Its location is the character where the decoder stopped, not a field: name the body.
        at = f" at character {loc[1]}" if len(loc) > 1 else ""
        reason = err.get("ctx", {}).get("error", "cannot be decoded")
        return {
            "field": "body",
            "in": "body",
            "message": f"not valid JSON: {reason}{at}",
            "code": "json_invalid",
        }
    return {
        "field": _field_path(loc),
        "in": str(err.get("loc", ("body",))[0]),
        "message": err.get("msg", "invalid"),
        "code": err.get("type", "invalid"),
    }


def validation_problem(exc: RequestValidationError) -> Unprocessable:
    errors = [_failure(err) for err in exc.errors()]
    names = ", ".join(sorted({e["field"] for e in errors})) or "request"
    return Unprocessable(f"invalid {names}", errors=errors)


_HTTP_TITLES = {404: NotFound, 405: Problem, 401: Unauthorized, 403: Forbidden}


# The same failures raised by the driver itself, on the hot paths that use it
# directly (core.database.driver_connection): a closed connection, class 08
# (connection exception), class 57 (operator intervention: shutdown, restart), and the
# driver finding its protocol out of step, which a connection the server killed mid-answer
# can leave (the connection is unusable either way: dropped from the pool, 503).
DRIVER_CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InternalClientError,
)


def _is_server_gone(exc: DBAPIError) -> bool:
    # A server shutting down answers FATAL 57P01 (admin_shutdown) before it
    # closes the socket; SQLAlchemy sees a plain DBAPIError on a connection it
    # still believes open. Classes 08 (connection) and 57 (operator
    # intervention) mean the database is away, not that the request was wrong.
    sqlstate = str(getattr(getattr(exc, "orig", None), "sqlstate", "") or "")
    return sqlstate[:2] in {"08", "57"}


def _is_data_error(exc: DBAPIError) -> bool:
    orig = getattr(exc, "orig", None)
    sqlstate = str(getattr(orig, "sqlstate", "") or "")
    names = {type(orig).__name__, type(getattr(orig, "__cause__", None)).__name__}
    return (
        sqlstate.startswith("22") or "DataError" in names or "invalid input for query" in str(exc)
    )


def install_error_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc, request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_problem(exc), request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        problem = Problem(str(exc.detail), headers=dict(exc.headers or {}))
        problem.status = exc.status_code
        problem.slug = {404: "not-found", 405: "method-not-allowed"}.get(
            exc.status_code, "http-error"
        )
        problem.title = {404: "Not found", 405: "Method not allowed"}.get(
            exc.status_code, "HTTP error"
        )
        if exc.status_code == 404 and exc.detail == "Not Found":
            problem.detail = f"no resource at {request.url.path}"
        return problem_response(problem, request)

    async def on_database_down(request: Request, exc: Exception) -> JSONResponse:
        # The server went away or the pool is exhausted: tell the client to come
        # back rather than pretending the request was wrong.
        logger.warning("database unavailable: %s", type(exc).__name__)
        problem = ServiceUnavailable(
            "the database is unavailable; retry shortly", headers={"Retry-After": "5"}
        )
        return problem_response(problem, request)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and (exc.connection_invalidated or _is_server_gone(exc)):
            return await on_database_down(request, exc)
        if isinstance(exc, DBAPIError) and _is_data_error(exc):
            # asyncpg refuses a parameter it cannot encode (a date past year
            # 9999 once in UTC) before it reaches the server, and SQLAlchemy
            # wraps that as a bare DBAPIError: still the client's bad value.
            return await on_data_error(request, exc)
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        problem = Problem("an internal error occurred; it has been logged")
        problem.status, problem.slug, problem.title = 500, "internal-error", "Internal error"
        return problem_response(problem, request)

    async def on_integrity(request: Request, exc: Exception) -> JSONResponse:
        # The safety net under the services' own checks: a race that the
        # database's constraints caught is the client's conflict, not our 500.
        sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None) or ""
        if sqlstate == "23505":
            problem: Problem = Conflict("the request conflicts with an existing resource")
        else:
            problem = Unprocessable("the request refers to something that does not exist")
        return problem_response(problem, request)

    async def on_data_error(request: Request, exc: Exception) -> JSONResponse:
        return problem_response(
            Unprocessable("a value is out of the range this API stores"), request
        )

    app.add_exception_handler(IntegrityError, on_integrity)
    app.add_exception_handler(DataError, on_data_error)
    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    for exc_type in (
        OperationalError,
        InterfaceError,
        PoolTimeoutError,
        ConnectionError,
        OSError,
        *DRIVER_CONNECTION_ERRORS,
    ):
        app.add_exception_handler(exc_type, on_database_down)
    app.add_exception_handler(Exception, on_unexpected)
