"""Delivery: webhooks to loopback receivers, and mail to a loopback SMTP server, by one worker.

    uv run python -m bench.delivery [--events 10000] [--endpoints 100] [--paced 200]
    uv run python -m bench.delivery --mail 2000

Webhooks: `--endpoints` enterprises with one endpoint each (its own path on the
receiver); E events, spread round-robin over the enterprises, land in the outbox in one
transaction (as a burst of ticket activity would), one `carrierdesk worker` fans them out
and posts them. Deliveries per second from the burst to the last receipt, the worker's CPU
per delivery, and the order each endpoint received its events in: a first receipt of an
event older than one the endpoint already had is a violation (there must be none). Then
`--paced` events written one at a time (20 ms apart) through `record_event`, each timed from
its event instant to its receipt.

Mail (`--mail N`): N pending messages land in `mail_messages` at once; the worker sends them
to an aiosmtpd server in this process; messages per second and worker CPU per message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from app.core.database import as_asyncpg_url, create_engine, create_sessionmaker
from app.core.events import record_event
from app.services.tickets.events import TicketNoteAdded
from app.services.tickets.schemas import NoteVisibility
from bench.common import (
    Server,
    admin_token,
    drop_database,
    free_port,
    fresh_database,
    profiled,
    run,
    start_carrierdesk,
    start_worker,
    table,
    write_section,
)
from bench.load import percentile


class Receiver:
    """Webhook receiver: the first receipt of each webhook-id, per endpoint (path), in order.

    A bare HTTP/1.1 server on asyncio in a thread of its own (keep-alive, answers 204), so
    the receiving side costs as little as a receiver can in Python."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, tuple[float, str]] = {}
        self.last: dict[str, int] = {}  # path -> newest event id received
        self.violations = 0
        self.loop = asyncio.new_event_loop()
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0)
        )
        self.port = self.server.sockets[0].getsockname()[1]
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = dict(
                    (k.strip().lower(), v.strip())
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                )
                body = json.loads(await reader.readexactly(int(headers.get("content-length", 0))))
                self._received(path, headers.get("webhook-id", ""), body)
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _received(self, path: str, key: str, body: dict[str, Any]) -> None:
        now, event_id = time.time(), body["data"]["event_id"]
        with self.lock:
            if key in self.seen:
                return
            self.seen[key] = (now, body["timestamp"])
            if event_id < self.last.get(path, 0):
                self.violations += 1
            self.last[path] = max(event_id, self.last.get(path, 0))

    def url(self, endpoint: int) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{endpoint}"

    def count(self) -> int:
        with self.lock:
            return len(self.seen)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


async def burst(url: str, enterprise_ids: list[str], n: int) -> None:
    """`n` public notes, round-robin over the enterprises, and their outbox rows, at once."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(
                """
                WITH e AS (
                    INSERT INTO events
                        (enterprise_id, subject_type, subject_id, type, at, actor, data)
                    SELECT ($1::uuid[])[1 + g % cardinality($1::uuid[])], 'ticket',
                           gen_random_uuid(), 'ticket.note_added', now(), 'bench',
                           $3::jsonb || jsonb_build_object('number', 'BENCH-' || g)
                    FROM generate_series(1, $2::int) g
                    ORDER BY g
                    RETURNING id, enterprise_id, at
                )
                INSERT INTO outbox (event_id, enterprise_id, created_at)
                SELECT id, enterprise_id, at FROM e
                """,
                enterprise_ids,
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


def wait_for(count: Any, total: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while count() < total and time.monotonic() < deadline:
        time.sleep(0.05)


def settled(worker: Server, timeout: float = 120) -> None:
    """Wait until the worker has started (imports, pool, listener): a second with almost no
    CPU, so its start-up is not counted against the deliveries."""
    deadline = time.monotonic() + timeout
    time.sleep(2)
    while time.monotonic() < deadline:
        before = worker.cpu_seconds()
        time.sleep(1)
        if worker.cpu_seconds() - before < 0.05:
            return


def webhooks(url: str, token: str, args: argparse.Namespace) -> None:
    api = start_carrierdesk(url, token)
    receiver = Receiver()
    worker: Server | None = None
    try:
        ents = []
        with httpx.Client(base_url=api.base, headers={"Authorization": f"Bearer {token}"}) as c:
            for i in range(args.endpoints):
                r = c.post("/v1/enterprises", json={"name": f"Bench {i}", "country": "EC"})
                ents.append(r.json()["id"])
                r = c.post(
                    "/v1/webhooks",
                    json={
                        "url": receiver.url(i),
                        "events": ["ticket.*"],
                        "enterprise_id": ents[-1],
                    },
                )
                assert r.status_code == 201, r.text
        api.stop()
        worker = start_worker(url, token)
        settled(worker)
        with profiled(worker.proc.pid, args.profile):
            cpu0, t0 = worker.cpu_seconds(), time.time()
            run(burst(url, ents, args.events))
            wait_for(receiver.count, args.events, timeout=600)
        with receiver.lock:
            times = sorted(at for at, _ in receiver.seen.values())
        got = len(times)
        span = (times[-1] - t0) if times else float("nan")
        rate = got / span if span else float("nan")
        cpu = worker.cpu_seconds() - cpu0
        before = receiver.count()
        run(paced(url, ents[0], args.paced))
        wait_for(receiver.count, before + args.paced, timeout=120)
        with receiver.lock:
            items = list(receiver.seen.values())[before:]
            violations = receiver.violations
        lat = [
            1000 * (at - datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp())
            for at, ts in items
        ]
    finally:
        if worker is not None:
            worker.stop()
        api.stop()
        receiver.stop()

    body = (
        table(
            ["measure", "value"],
            [
                [
                    "events in the burst, endpoints (one per enterprise)",
                    f"{args.events:,}, {args.endpoints}",
                ],
                ["deliveries received (distinct webhook-id)", f"{got:,} / {args.events:,}"],
                ["deliveries per second, one worker (burst → last receipt)", rate],
                ["worker CPU ms per delivery", f"{1000 * cpu / max(got, 1):.2f}"],
                ["per-endpoint order violations", violations],
                [f"end-to-end latency p50, {args.paced} paced events (ms)", percentile(lat, 50)],
                ["end-to-end latency p99 (ms)", percentile(lat, 99)],
                ["end-to-end latency max (ms)", max(lat) if lat else float("nan")],
            ],
        )
        + "\n\nOne `carrierdesk worker` process on the server core; the receiver (a bare "
        "HTTP/1.1 server on asyncio, keep-alive) in the benchmark process, one path per "
        "endpoint. Webhooks keep the order of events per endpoint, so one endpoint's "
        "deliveries go one after another "
        "and different endpoints' at the same time; the receiver counts a violation for every "
        "first receipt of an event older than one its endpoint already had. End-to-end latency "
        "runs from the event's instant (commit and NOTIFY) to its receipt. The reference here "
        "is the receiver's own floor: a bare loopback POST costs well under a millisecond."
    )
    write_section(
        "delivery",
        "Webhook delivery",
        f"uv run python -m bench.delivery --events {args.events} --endpoints {args.endpoints}",
        body,
    )


async def pending_mail(url: str, n: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            """
            INSERT INTO mail_messages (id, enterprise_id, recipient, language, subject, body,
                                       status, attempts, next_attempt_at, created_at)
            SELECT gen_random_uuid(), '00000000-0000-0000-0000-000000000000', 'noc' || g
                   || '@acme.example', 'en', 'Ticket BENCH-' || g || ' updated',
                   repeat('A public note on your ticket. ', 20), 'pending', 0, now(), now()
            FROM generate_series(1, $1::int) g
            """,
            n,
        )
        await conn.execute("SELECT pg_notify('carrierdesk_mail', '')")
    finally:
        await conn.close()


def mail(url: str, token: str, args: argparse.Namespace) -> None:
    from aiosmtpd.controller import Controller

    received: list[float] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(time.time())
            return "250 OK"

    port = free_port()
    smtp = Controller(Handler(), hostname="127.0.0.1", port=port)
    smtp.start()
    start_carrierdesk(url, token).stop()  # migrated
    worker = start_worker(
        url, token, CARRIERDESK_SMTP_URL=f"smtp://127.0.0.1:{port}?starttls=false"
    )
    try:
        settled(worker)
        with profiled(worker.proc.pid, args.profile):
            cpu0, t0 = worker.cpu_seconds(), time.time()
            run(pending_mail(url, args.mail))
            wait_for(lambda: len(received), args.mail, timeout=600)
        got = len(received)
        span = (max(received) - t0) if received else float("nan")
        cpu = worker.cpu_seconds() - cpu0
    finally:
        worker.stop()
        smtp.stop()
    body = (
        table(
            ["measure", "value"],
            [
                ["messages received / pending", f"{got:,} / {args.mail:,}"],
                ["messages per second, one worker (insert → last receipt)", got / span],
                ["worker CPU ms per message", f"{1000 * cpu / max(got, 1):.2f}"],
            ],
        )
        + "\n\nOne `carrierdesk worker` process on the server core sending to an aiosmtpd "
        "server (no TLS, no authentication) in the benchmark process; the messages are "
        "written straight into `mail_messages` in one statement, as a fan-out would leave them."
    )
    write_section(
        "mail", "Mail delivery", f"uv run python -m bench.delivery --mail {args.mail}", body
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--paced", type=int, default=200)
    parser.add_argument("--mail", type=int, default=0, help="send N mails instead of webhooks")
    parser.add_argument("--profile", help="py-spy the worker meanwhile, collapsed stacks here")
    args = parser.parse_args()

    name, url = run(fresh_database("bench_delivery"))
    token = admin_token()
    try:
        (mail if args.mail else webhooks)(url, token, args)
    finally:
        run(drop_database(name))


if __name__ == "__main__":
    main()
