"""The intake use case alone: `services.tickets.service.open_ticket` called in a loop by 32
tasks in one process, with no HTTP server, no routing and no request parsing: the ceiling any
work on the request path could reach. Run by `bench.intake` (pinned to the server core, beside
the servers it measures), not on its own.

python -m bench.intake_alone URL TOKEN BODY_JSON SECONDS  ->  one JSON line: rps, cpu_ms
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid

from app.core.clock import SystemClock
from app.core.database import create_engine, create_sessionmaker, pooled_driver
from app.core.idempotency import IdempotencyClaim
from app.services.identity.authentication import resolve_caller
from app.services.tickets import schemas, service

TASKS = 32


async def main(url: str, token: str, body: bytes, seconds: float) -> dict[str, float]:
    engine = create_engine(url, pool_size=TASKS + 8)
    maker = create_sessionmaker(engine)
    clock = SystemClock()
    async with maker() as session:
        caller = await resolve_caller(session, token, clock.now())
    to_json = schemas.TicketRead.__pydantic_serializer__.to_json
    done = 0
    deadline = 0.0

    async def one() -> None:
        # What the route does besides the use case: the body parsed, a key claimed, the answer
        # serialised; not the HTTP, the routing, the token, the middleware.
        payload = schemas.TicketCreate.model_validate_json(body)
        claim = IdempotencyClaim(caller.principal, uuid.uuid4().hex, "0" * 64, clock)
        async with pooled_driver(engine, maker) as db:
            ticket = await service.open_ticket(db, caller, clock, claim, payload)
        to_json(ticket)

    async def loop() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            await one()
            done += 1

    try:
        deadline = time.monotonic() + 2  # each pooled connection opened and warmed first
        await asyncio.gather(*(loop() for _ in range(TASKS)))
        done = 0
        cpu, started = time.process_time(), time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(loop() for _ in range(TASKS)))
        cpu, elapsed = time.process_time() - cpu, time.monotonic() - started
    finally:
        await engine.dispose()
    return {"rps": done / elapsed, "cpu_ms": 1000 * cpu / max(done, 1), "core": cpu / elapsed}


if __name__ == "__main__":
    url, token, body, seconds = sys.argv[1:5]
    figures = asyncio.run(main(url, token, body.encode(), float(seconds)))
    sys.stdout.write(json.dumps(figures) + "\n")
