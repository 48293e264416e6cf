"""A real SSE client reading `/v1/events/stream` in the background, for tests that act while
a stream is open."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class OpenStream:
    status: int | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    ended: bool = False  # the server closed the stream
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    problem: dict[str, Any] | None = None

    def ids(self) -> list[int]:
        return [e["id"] for e in self.events]


async def _read(
    client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, Any], into: OpenStream
) -> None:
    current: dict[str, Any] = {}
    try:
        async with client.stream(
            "GET", "/v1/events/stream", headers=headers, params=params
        ) as response:
            into.status = response.status_code
            if response.status_code != 200:
                into.problem = json.loads(await response.aread())
                return
            into.connected.set()
            async for line in response.aiter_lines():
                if line.startswith("id:"):
                    current["id"] = int(line[3:].strip())
                elif line.startswith("event:"):
                    current["event"] = line[6:].strip()
                elif line.startswith("data:"):
                    current["data"] = json.loads(line[5:].strip())
                elif line == "" and current:
                    into.events.append(current)
                    current = {}
            into.ended = True
    finally:
        into.connected.set()


@contextlib.asynccontextmanager
async def open_stream(
    base: str, headers: dict[str, str], **params: Any
) -> AsyncIterator[OpenStream]:
    """Open the stream and read it in the background until the block ends or the server ends it;
    entered once the server has answered (200 or a problem)."""
    stream = OpenStream()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        task = asyncio.create_task(_read(client, headers, params, stream))
        await asyncio.wait_for(stream.connected.wait(), timeout=30)
        try:
            yield stream
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
