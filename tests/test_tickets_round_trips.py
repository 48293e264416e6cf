"""The hot paths stay few round trips: intake, one ticket, a page of tickets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.tickets import make_desk
from tests.support.world import World


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        word = statement.lstrip().split(None, 1)[0].upper()
        if word not in {"SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"}:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_intake_and_reads_take_few_statements(world: World, engine: AsyncEngine) -> None:
    desk = await make_desk(world)
    await world.client.get("/v1/tickets", headers=desk.customer)  # the token's last use noted
    headers = {**desk.customer, "Idempotency-Key": "round-trips-1"}
    body = {
        "service_id": desk.service["id"],
        "severity": "major",
        "summary": "Down",
        "contact": {"name": "NOC"},
        "external_id": "RT-1",
    }
    with statements(engine) as seen:
        created = await world.client.post("/v1/tickets", json=body, headers=headers)
    assert created.status_code == 201
    # token, idempotency key, service+policy+tier+duplicate, ticket+clock+NOTIFYs,
    # event+outbox, idempotency record
    assert len(seen) <= 6, seen
    with statements(engine) as seen:
        read = await world.client.get(f"/v1/tickets/{created.json()['id']}", headers=desk.customer)
    assert read.status_code == 200
    assert len(seen) <= 2, seen
    with statements(engine) as seen:
        page = await world.client.get("/v1/tickets?limit=100", headers=desk.customer)
    assert page.status_code == 200
    assert len(seen) <= 2, seen
