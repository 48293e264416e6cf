"""One small keep-alive pool per webhook endpoint, behind the worker's one HTTP client.

An endpoint has at most one attempt in flight, so its pool holds one connection, kept
alive for its next delivery. One pool for every endpoint would do the same, but httpcore
looks over all of a pool's connections on every request (expired? idle?), which on a
worker sending to many endpoints costs more than the request itself. A request names
its pool in its `POOL` extension (the endpoint); without one, its origin is the pool.
Pools idle for longer than the keep-alive expiry are closed.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Callable, Hashable

import httpx

POOL = "carrierdesk_pool"


class PoolPerEndpoint(httpx.AsyncBaseTransport):
    def __init__(self, *, connections: int = 1, keepalive_expiry: float = 30.0) -> None:
        self.ssl_context: ssl.SSLContext = httpx.create_ssl_context()
        self.connections = connections
        self.keepalive_expiry = keepalive_expiry
        self.pools: dict[Hashable, httpx.AsyncHTTPTransport] = {}
        self.last_used: dict[Hashable, float] = {}
        self.busy: dict[Hashable, int] = {}
        self.swept = time.monotonic()

    def _pool(self, key: Hashable) -> httpx.AsyncHTTPTransport:
        pool = self.pools.get(key)
        if pool is None:
            pool = httpx.AsyncHTTPTransport(
                verify=self.ssl_context,
                limits=httpx.Limits(
                    max_connections=self.connections,
                    max_keepalive_connections=self.connections,
                    keepalive_expiry=self.keepalive_expiry,
                ),
            )
            self.pools[key] = pool
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = request.extensions.get(POOL) or (request.url.scheme, request.url.netloc)
        now = time.monotonic()
        if now - self.swept > self.keepalive_expiry:
            await self._sweep(now)
        pool = self._pool(key)
        self.busy[key] = self.busy.get(key, 0) + 1
        self.last_used[key] = now
        try:
            response = await pool.handle_async_request(request)
        except BaseException:
            self._done(key)
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_Held(response.stream, lambda: self._done(key)),
            extensions=response.extensions,
        )

    def _done(self, key: Hashable) -> None:
        """A request of `key`'s pool is over (its answer closed): the pool may be swept."""
        if key in self.busy:
            self.busy[key] -= 1
            self.last_used[key] = time.monotonic()

    async def _sweep(self, now: float) -> None:
        """Close the pools no request used for a keep-alive expiry (their connections are
        closed by then anyway; the pool objects would otherwise pile up)."""
        self.swept = now
        idle = [
            key
            for key, used in self.last_used.items()
            if now - used > self.keepalive_expiry and not self.busy.get(key)
        ]
        for key in idle:
            pool = self.pools.pop(key)
            del self.last_used[key]
            self.busy.pop(key, None)
            await pool.aclose()

    async def aclose(self) -> None:
        pools, self.pools = list(self.pools.values()), {}
        self.last_used.clear()
        self.busy.clear()
        for pool in pools:
            await pool.aclose()


class _Held(httpx.AsyncByteStream):
    """An answer's body that tells its pool when it is closed."""

    def __init__(self, stream: httpx.AsyncByteStream, closed: Callable[[], None]) -> None:
        self.stream = stream
        self.closed: Callable[[], None] | None = closed

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self.stream.aclose()
        finally:
            closed, self.closed = self.closed, None
            if closed is not None:
                closed()
