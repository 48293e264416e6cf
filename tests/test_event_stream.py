"""Live events over SSE, served by a real uvicorn on loopback."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from app.core.events import record_event
from app.core.roles import Role
from tests.support.events import ticket_event
from tests.support.servers import serve
from tests.support.world import World


async def happen(world: World, enterprise_id: str, type: str) -> int:
    async with world.sessionmaker() as session:
        event_id = await record_event(
            session,
            ticket_event(type, number=type),
            subject_id=uuid.uuid4(),
            at=world.clock.now(),
            actor="test",
            enterprise_id=uuid.UUID(enterprise_id),
        )
        await session.commit()
    return event_id


async def read_events(
    base: str, headers: dict[str, str], count: int, **params: Any
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    async with (
        httpx.AsyncClient(base_url=base, timeout=10) as client,
        client.stream("GET", "/v1/events/stream", headers=headers, params=params) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("id:"):
                current["id"] = int(line[3:].strip())
            elif line.startswith("event:"):
                current["event"] = line[6:].strip()
            elif line.startswith("data:"):
                current["data"] = json.loads(line[5:].strip())
            elif line == "" and current:
                events.append(current)
                current = {}
                if len(events) == count:
                    break
    return events


async def test_the_stream_resumes_after_last_event_id_with_the_tenants_events_only(
    live: tuple[World, Any],
) -> None:
    world, app = live
    acme = await world.enterprise("Acme", "EC")
    other = await world.enterprise("Other", "PE")
    viewer = await world.api_client(Role.customer_user, acme["id"])
    first = await happen(world, acme["id"], "ticket.created")
    await happen(world, other["id"], "ticket.created")
    second = await happen(world, acme["id"], "ticket.stage_changed")
    third = await happen(world, acme["id"], "ticket.closed")

    async with serve(app) as port:
        base = f"http://127.0.0.1:{port}"
        resumed = await read_events(base, {**viewer, "Last-Event-ID": str(first)}, 2)
        assert [e["id"] for e in resumed] == [second, third]
        assert [e["event"] for e in resumed] == ["ticket.stage_changed", "ticket.closed"]
        assert all(e["data"]["enterprise_id"] == acme["id"] for e in resumed)
        from_start = await read_events(base, viewer, 1, after=0)
        assert from_start[0]["id"] == first
        # A stream that reaches its lifetime ends cleanly; the client resumes.
        ended = await read_events(base, {**viewer, "Last-Event-ID": str(third)}, 99, max_seconds=1)
        assert ended == []
        async with httpx.AsyncClient(base_url=base) as client:
            bad = await client.get(
                "/v1/events/stream", headers={**viewer, "Last-Event-ID": "yesterday"}
            )
        assert bad.status_code == 422
