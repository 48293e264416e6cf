"""The outbox fan-out on its own: CPU per event of `fan_out_all`, in this process.

    uv run python -m bench.fanout [--events 2000] [--enterprises 100] [--lot 20] [--rounds 3]

`--enterprises` enterprises are made through the API, each with a service and one ticket;
half of them subscribed (a standard webhook endpoint for `ticket.*` and a notification
contact for `ticket.escalated`), the other half with neither. Then, for each case below,
`--events` events land in the outbox, either all in one transaction, over the enterprises
in turn (a burst of ticket activity), or `--lot` at a time, each lot one enterprise's and
drained before the next lands (the SLA engine's sweeps: clocks falling due a few at a time,
as in `bench.sla`, whose tickets are one enterprise's). `fan_out_all` drains them here, in
the worker's batch size, with the worker's watermark. Reported: this process's CPU (user +
system: the fan-out's Python, SQLAlchemy and asyncpg; PostgreSQL's own work is not counted)
per event, the median of the rounds after a warm-up; the round trips per drain; and what
the fan-out wrote, checked against what each case must write. `--profile out.raw` samples
this process with py-spy over the measured rounds.

Cases, one event per ticket in turn:
- an SLA breach of an unsubscribed enterprise: `sla.breached` and `ticket.escalated`, the two
  events each due clock writes in `bench.sla` (no endpoint, no contact: nothing is written);
- a public note of a subscribed enterprise: one webhook delivery each (`bench.delivery`'s);
- an escalation of a subscribed enterprise: one webhook delivery and one mail each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event as sa_event

from app import event_catalog  # noqa: F401  (fills the event registry)
from app.core.clock import SystemClock
from app.core.database import as_asyncpg_url, create_engine, create_sessionmaker
from app.core.event_registry import EventPayload
from app.core.event_watermark import EventWatermark
from app.services.delivery.fanout import fan_out_all
from app.services.directory.rules import PhoneNumber
from app.services.tickets.events import (
    EscalationContacts,
    SlaBreached,
    TicketEscalated,
    TicketNoteAdded,
)
from app.services.tickets.schemas import NoteVisibility
from app.workers.delivery import FAN_OUT_BATCH
from bench.common import (
    CONTACT,
    admin_token,
    drop_database,
    fresh_database,
    profiled,
    run,
    start_carrierdesk,
    table,
    write_section,
)


@dataclass(frozen=True)
class Ticket:
    enterprise_id: str
    id: str
    subscribed: bool


@dataclass(frozen=True)
class Case:
    name: str
    subscribed: bool
    payloads: tuple[EventPayload, ...]  # written for each ticket in turn
    deliveries_per_event: int
    mails_per_event: int


ESCALATION = EscalationContacts(
    level=1,
    matrix_level=1,
    role="tsc_supervisor",
    phones=[PhoneNumber(display="+593 2 400 5124", e164="+59324005124")],
    fallback=False,
    office_hours=True,
    after_hours=None,
)


def escalated(number: str) -> TicketEscalated:
    return TicketEscalated(
        number=number,
        stage="reception",
        level=1,
        reason="the reception clock passed 1x its target",
        requested_by="sla",
        escalation=ESCALATION,
        clock_id=1,
    )


CASES = (
    Case(
        "SLA breach, no subscriber (sla.breached + ticket.escalated)",
        subscribed=False,
        payloads=(
            SlaBreached(
                number="BENCH",
                stage="reception",
                due_at=datetime(2026, 1, 1, tzinfo=UTC),
                clock_id=1,
                lag_seconds=0.2,
            ),
            escalated("BENCH"),
        ),
        deliveries_per_event=0,
        mails_per_event=0,
    ),
    Case(
        "public note, a webhook (ticket.note_added)",
        subscribed=True,
        payloads=(TicketNoteAdded(number="BENCH", visibility=NoteVisibility.public, body="x"),),
        deliveries_per_event=1,
        mails_per_event=0,
    ),
    Case(
        "escalation, a webhook and a mail (ticket.escalated)",
        subscribed=True,
        payloads=(escalated("BENCH"),),
        deliveries_per_event=1,
        mails_per_event=1,
    ),
)


def make_world(base: str, token: str, enterprises: int) -> list[Ticket]:
    """Enterprises, a service and a ticket each; every other one subscribed."""
    tickets = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        for i in range(enterprises):
            ent = c.post("/v1/enterprises", json={"name": f"Bench {i}", "country": "EC"})
            ent_id = ent.json()["id"]
            svc = c.post(
                f"/v1/enterprises/{ent_id}/services",
                json={
                    "code": f"SVC-{i}",
                    "product_line": "data",
                    "site": {"address": "Av. Amazonas", "city": "Quito", "country": "EC"},
                },
            )
            body = {
                "enterprise_id": ent_id,
                "service_id": svc.json()["id"],
                "severity": "major",
                "summary": "Link down at the head office",
                "contact": CONTACT,
            }
            ticket = c.post("/v1/tickets", json=body)
            assert ticket.status_code == 201, ticket.text
            subscribed = i % 2 == 0
            if subscribed:
                hook = {"url": f"http://127.0.0.1:9/hook/{i}", "events": ["ticket.*"]}
                r = c.post("/v1/webhooks", json=hook | {"enterprise_id": ent_id})
                assert r.status_code == 201, r.text
                contact = {
                    "name": "NOC",
                    "email": f"noc{i}@acme.example",
                    "events": ["ticket.escalated"],
                }
                r = c.post(f"/v1/enterprises/{ent_id}/contacts", json=contact)
                assert r.status_code == 201, r.text
            tickets.append(Ticket(ent_id, ticket.json()["id"], subscribed))
    return tickets


async def land(
    conn: Any, tickets: list[Ticket], case: Case, n: int, lot: int | None = None
) -> None:
    """`n` events of `case` and their outbox rows, in one transaction: over the case's tickets
    in turn, or (the `lot`th lot) all on one ticket, as a sweep of the SLA engine over one
    enterprise's clocks writes them (`bench.sla`'s tickets are all one enterprise's)."""
    mine = [t for t in tickets if t.subscribed == case.subscribed]
    rows = []
    for i in range(n):
        ticket = mine[(i // len(case.payloads) if lot is None else lot) % len(mine)]
        payload = case.payloads[i % len(case.payloads)]
        rows.append((ticket.enterprise_id, ticket.id, payload.event_type, payload.stored_json()))
    await conn.execute(
        """
        WITH e AS (
            INSERT INTO events (enterprise_id, subject_type, subject_id, type, at, actor, data)
            SELECT v.enterprise_id, 'ticket', v.subject_id, v.type, now(), 'bench', v.data
            FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[])
                WITH ORDINALITY AS v(enterprise_id, subject_id, type, data, n)
            ORDER BY v.n
            RETURNING id, enterprise_id, at
        )
        INSERT INTO outbox (event_id, enterprise_id, created_at)
        SELECT id, enterprise_id, at FROM e
        """,
        *map(list, zip(*rows, strict=True)),
    )


async def written(conn: Any) -> tuple[int, int, int]:
    """Outbox rows still unprocessed, webhook deliveries, mails."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM outbox WHERE processed_at IS NULL),"
        " (SELECT count(*) FROM webhook_deliveries), (SELECT count(*) FROM mail_messages)"
    )
    return row[0], row[1], row[2]


class Fanout:
    """`fan_out_all` as the worker's outbox loop calls it, on a pool of its own."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(as_asyncpg_url(url), pool_size=2)
        self.maker = create_sessionmaker(self.engine)
        self.watermark = EventWatermark()
        # Round trips: SQLAlchemy's statements (it prepares them on the driver, past asyncpg's
        # query log), and what asyncpg logs: statements sent to the driver itself, and the
        # BEGIN, COMMIT and ROLLBACK of every transaction.
        self.statements = 0
        sync = self.engine.sync_engine
        sa_event.listen(sync, "before_cursor_execute", self._count)
        sa_event.listen(
            sync, "connect", lambda c, _: c.driver_connection.add_query_logger(self._count)
        )

    def _log_queries(self, connection: Any, _record: Any) -> None:
        connection.driver_connection.add_query_logger(self._count)

    def _count(self, *_args: Any) -> None:
        self.statements += 1

    async def drain(self) -> tuple[float, int, int]:
        """CPU seconds, events fanned out, round trips."""
        statements, cpu = self.statements, time.process_time()
        async with self.maker() as session:
            done = await fan_out_all(
                session, SystemClock(), watermark=self.watermark, limit=FAN_OUT_BATCH
            )
        cpu = time.process_time() - cpu
        await asyncio.sleep(0)  # asyncpg logs a query by a callback soon after it
        return cpu, done, self.statements - statements


async def one_round(
    conn: Any, fanout: Fanout, tickets: list[Ticket], case: Case, size: int, events: int
) -> tuple[float, float]:
    """`events` events landed `size` at a time, each lot drained before the next lands:
    CPU ms per event, round trips per drain. Checks what was written."""
    _, deliveries0, mails0 = await written(conn)
    cpu = statements = 0.0
    drains = 0
    for start in range(0, events, size):
        lot = min(size, events - start)
        await land(conn, tickets, case, lot, start // size if size < events else None)
        while lot > 0:  # another transaction running (autovacuum's) may hold the watermark back
            seconds, done, count = await fanout.drain()
            cpu, statements, drains, lot = cpu + seconds, statements + count, drains + 1, lot - done
    left, deliveries, mails = await written(conn)
    assert left == 0, left
    assert deliveries - deliveries0 == case.deliveries_per_event * events
    assert mails - mails0 == case.mails_per_event * events
    return 1000 * cpu / events, statements / drains


async def measure(url: str, tickets: list[Ticket], args: argparse.Namespace) -> list[list[Any]]:
    fanout = Fanout(url)
    conn = await asyncpg.connect(url)
    try:
        await fanout.drain()  # the tickets' own `ticket.created`
        cases = [c for i, c in enumerate(CASES, 1) if not args.case or i in args.case]
        for case in cases:  # warm-up: statements prepared, caches filled
            await one_round(conn, fanout, tickets, case, args.lot, min(args.events, 200))
        out = []
        with profiled(os.getpid(), args.profile):
            for case in cases:
                row: list[Any] = [case.name]
                for size in (args.events, args.lot):
                    results = [
                        await one_round(conn, fanout, tickets, case, size, args.events)
                        for _ in range(args.rounds)
                    ]
                    per_event = [ms for ms, _ in results]
                    each = ", ".join(f"{ms:.3f}" for ms in per_event)
                    row += [
                        f"{statistics.median(per_event):.3f} ({each})",
                        f"{statistics.median(n for _, n in results):.0f}",
                    ]
                out.append(row)
        return out
    finally:
        await conn.close()
        await fanout.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--enterprises", type=int, default=100)
    parser.add_argument("--lot", type=int, default=20, help="events per drain, small lots")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--case", type=int, action="append", help="only case N (1-3)")
    parser.add_argument("--profile", help="py-spy this process meanwhile, collapsed stacks here")
    args = parser.parse_args()

    name, url = run(fresh_database("bench_fanout"))
    token = admin_token()
    try:
        api = start_carrierdesk(url, token)
        try:
            tickets = make_world(api.base, token, args.enterprises)
        finally:
            api.stop()
        rows = run(measure(url, tickets, args))
    finally:
        run(drop_database(name))
    body = (
        table(
            [
                "case",
                f"CPU ms per event, {args.events:,} at once (median; rounds)",
                "round trips per drain",
                f"CPU ms per event, {args.lot} at a time",
                "round trips per drain",
            ],
            rows,
        )
        + f"\n\n{args.events:,} events per round, all at once over {args.enterprises // 2} "
        f"enterprises of {args.enterprises} (the subscribed half, or the other; one ticket "
        f"each), or {args.lot} at a time, each lot one enterprise's; `fan_out_all` in batches "
        f"of {FAN_OUT_BATCH:,} (the worker's), in the benchmark process after a warm-up. CPU "
        "is the process's own (user + system): the fan-out's Python, SQLAlchemy and asyncpg, "
        "not PostgreSQL's. Each round checks that every event was fanned out and wrote "
        "exactly its deliveries and mail."
    )
    write_section(
        "fanout",
        "Outbox fan-out",
        f"uv run python -m bench.fanout --events {args.events} --enterprises {args.enterprises}",
        body,
    )


if __name__ == "__main__":
    main()
