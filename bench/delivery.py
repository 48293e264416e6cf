"""Delivery: E events to a loopback webhook receiver, through the outbox and one worker.

    uv run python -m bench.delivery [--events 10000] [--endpoints 1] [--paced 200]

Throughput: E events land in the outbox in one transaction (as a burst of
ticket activity would), one `carrierdesk worker` fans them out and posts them;
deliveries per second from the first receipt to the last. Latency: then
`--paced` events written one at a time (20 ms apart) through `record_event`,
each timed from its event instant to its receipt.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx

from app.core.database import as_asyncpg_url, create_engine, create_sessionmaker
from app.core.events import record_event
from app.services.tickets.events import TicketNoteAdded
from app.services.tickets.schemas import NoteVisibility
from bench.common import (
    admin_token,
    drop_database,
    fresh_database,
    percentile,
    run,
    start_carrierdesk,
    start_worker,
    table,
    write_section,
)


class Receiver:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, tuple[float, str]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                now = time.time()
                with receiver.lock:
                    receiver.seen.setdefault(
                        self.headers.get("webhook-id", ""), (now, json.loads(body)["timestamp"])
                    )
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def count(self) -> int:
        with self.lock:
            return len(self.seen)


async def burst(url: str, enterprise_id: str, n: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(
                """
                WITH e AS (
                    INSERT INTO events
                        (enterprise_id, subject_type, subject_id, type, at, actor, data)
                    SELECT $1::uuid, 'ticket', gen_random_uuid(), 'ticket.note_added', now(),
                           'bench', $3::jsonb || jsonb_build_object('number', 'BENCH-' || g)
                    FROM generate_series(1, $2::int) g
                    RETURNING id, enterprise_id, at
                )
                INSERT INTO outbox (event_id, enterprise_id, created_at)
                SELECT id, enterprise_id, at FROM e
                """,
                enterprise_id,
                n,
                # Every row the same public note but for its number: the payload model's body.
                TicketNoteAdded(
                    number="BENCH", visibility=NoteVisibility.public, body="burst"
                ).model_dump_json(),
            )
            await conn.execute("SELECT pg_notify('carrierdesk_outbox', '')")
    finally:
        await conn.close()


async def paced(url: str, enterprise_id: str, n: int) -> None:
    engine = create_engine(as_asyncpg_url(url), pool_size=2)
    maker = create_sessionmaker(engine)
    try:
        for i in range(n):
            async with maker() as session:
                note = TicketNoteAdded(
                    number=f"BENCH-{i}", visibility=NoteVisibility.public, body=f"paced {i}"
                )
                await record_event(
                    session,
                    note,
                    subject_id=uuid.uuid4(),
                    at=datetime.now(UTC),
                    actor="bench",
                    enterprise_id=uuid.UUID(enterprise_id),
                )
                await session.commit()
            await asyncio.sleep(0.02)
    finally:
        await engine.dispose()


def wait_for(receiver: Receiver, total: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while receiver.count() < total and time.monotonic() < deadline:
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=1)
    parser.add_argument("--paced", type=int, default=200)
    args = parser.parse_args()

    name, url = run(fresh_database("bench_delivery"))
    token = admin_token()
    api = start_carrierdesk(url, token)
    receiver = Receiver()
    worker = None
    try:
        with httpx.Client(base_url=api.base, headers={"Authorization": f"Bearer {token}"}) as c:
            ent = c.post("/v1/enterprises", json={"name": "Bench", "country": "EC"}).json()["id"]
            for _ in range(args.endpoints):
                r = c.post(
                    "/v1/webhooks",
                    json={"url": receiver.url, "events": ["ticket.*"], "enterprise_id": ent},
                )
                assert r.status_code == 201, r.text
        api.stop()
        worker = start_worker(url, token)
        time.sleep(5)
        expected = args.events * args.endpoints
        cpu0, t0 = worker.cpu_seconds(), time.time()
        run(burst(url, ent, args.events))
        wait_for(receiver, expected, timeout=600)
        with receiver.lock:
            times = sorted(at for at, _ in receiver.seen.values())
        got = len(times)
        span = (times[-1] - t0) if times else float("nan")
        rate = got / span if span else float("nan")
        cpu = worker.cpu_seconds() - cpu0
        before = receiver.count()
        run(paced(url, ent, args.paced))
        wait_for(receiver, before + args.paced * args.endpoints, timeout=120)
        with receiver.lock:
            items = list(receiver.seen.values())[before:]
        lat = [
            1000 * (at - datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp())
            for at, ts in items
        ]
    finally:
        if worker is not None:
            worker.stop()
        api.stop()
        receiver.server.shutdown()
        run(drop_database(name))

    body = (
        table(
            ["measure", "value"],
            [
                ["events in the burst × endpoints", f"{args.events:,} × {args.endpoints}"],
                ["deliveries received (distinct webhook-id)", f"{got:,} / {expected:,}"],
                ["deliveries per second, one worker (burst → last receipt)", rate],
                ["worker CPU ms per delivery", f"{1000 * cpu / max(got, 1):.2f}"],
                [f"end-to-end latency p50, {args.paced} paced events (ms)", percentile(lat, 50)],
                ["end-to-end latency p99 (ms)", percentile(lat, 99)],
                ["end-to-end latency max (ms)", max(lat) if lat else float("nan")],
            ],
        )
        + "\n\nOne `carrierdesk worker` process on the server core; the receiver (Python "
        "`http.server`, threads) in the benchmark process. Webhooks keep the order of events "
        "per endpoint, so one endpoint's deliveries go one after another; `--endpoints` "
        "spreads the same events over several endpoints. End-to-end latency runs from the "
        "event's instant (commit and NOTIFY) to its receipt. The reference here is the "
        "receiver's own floor: a bare loopback POST costs well under a millisecond."
    )
    write_section(
        "delivery",
        "Delivery",
        f"uv run python -m bench.delivery --events {args.events} --endpoints {args.endpoints}",
        body,
    )


if __name__ == "__main__":
    main()
