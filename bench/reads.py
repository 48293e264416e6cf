"""Ticket reads and sync with N tickets in the database, against bare asyncpg selects;
and the memory of `serve` at rest and under that load.

    uv run python -m bench.reads [--tickets 1000000] [--rounds 3] [--seconds 10]
"""

from __future__ import annotations

import argparse
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx

from bench.bulk import clone_tickets
from bench.common import (
    admin_token,
    drop_database,
    fresh_database,
    interleaved,
    lua_get_many,
    median,
    run,
    start_carrierdesk,
    start_reference,
    table,
    ticket_body,
    write_section,
)


def setup(base: str, auth: dict[str, str]) -> str:
    """One ticket made through the API (on a new enterprise and service); its id."""
    ticket = httpx.post(base + "/v1/tickets", json=ticket_body(base, auth), headers=auth)
    assert ticket.status_code == 201, ticket.text
    return str(ticket.json()["id"])


async def load_reference(url: str, n: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO ref_tickets (id, summary, severity, updated_at) "
            "SELECT gen_random_uuid(), 'Link down at the head office', 'major', "
            "now() - (g % 31536000) * interval '1 second' FROM generate_series(1, $1::bigint) g",
            n,
        )
        await conn.execute("ANALYZE ref_tickets")
    finally:
        await conn.close()


async def sample_ids(url: str, table_name: str, k: int = 1000) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(f"SELECT id FROM {table_name} TABLESAMPLE SYSTEM (1) LIMIT $1", k)
        if len(rows) < k:
            rows = await conn.fetch(f"SELECT id FROM {table_name} LIMIT $1", k)
        return [str(r[0]) for r in rows]
    finally:
        await conn.close()


class RssSampler(threading.Thread):
    def __init__(self, server: Any) -> None:
        super().__init__(daemon=True)
        self.server, self.peak, self.halt = server, 0.0, threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.peak = max(self.peak, self.server.rss_mb())
            time.sleep(0.2)


def main(argv: list[str] | None = None, *, memory_only: bool = False) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args(argv)

    name, url = run(fresh_database("bench_reads"))
    token = admin_token()
    auth = {"Authorization": f"Bearer {token}"}
    cd = start_carrierdesk(url, token)
    ref = start_reference(url)
    try:
        template = setup(cd.base, auth)
        load_s = run(clone_tickets(url, template, args.tickets - 1, with_clocks=True))
        run(load_reference(url, args.tickets))
        cd_ids = run(sample_ids(url, "tickets"))
        ref_ids = run(sample_ids(url, "ref_tickets"))
        since = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
        time.sleep(2)
        at_rest = cd.rss_mb()
        sampler = RssSampler(cd)
        sampler.start()
        results = interleaved(
            {
                "Carrier Desk GET /v1/tickets/{id}": (
                    cd.base,
                    lua_get_many([f"/v1/tickets/{i}" for i in cd_ids], auth),
                ),
                "reference GET /tickets/{id}": (
                    ref.base,
                    lua_get_many([f"/tickets/{i}" for i in ref_ids], {}),
                ),
                "Carrier Desk GET /v1/tickets?updated_since&limit=100": (
                    cd.base,
                    lua_get_many([f"/v1/tickets?updated_since={since}&limit=100"], auth),
                ),
                "reference GET /tickets?updated_since&limit=100": (
                    ref.base,
                    lua_get_many([f"/tickets?updated_since={since}&limit=100"], {}),
                ),
            },
            rounds=args.rounds,
            seconds=args.seconds,
        )
        sampler.halt.set()
        under_load = sampler.peak
    finally:
        cd.stop()
        ref.stop()
        run(drop_database(name))

    memory_md = (
        table(
            ["serve (one process, --no-worker)", "RSS MiB"],
            [
                [f"at rest, {args.tickets:,} tickets loaded", at_rest],
                ["peak under the read load below (32 connections)", under_load],
            ],
        )
        + "\n\nSampled from /proc/<pid>/status (VmRSS) every 0.2 s."
    )
    write_section(
        "memory",
        "Memory of serve",
        f"uv run python -m bench.memory --tickets {args.tickets}",
        memory_md,
    )
    if memory_only:
        return
    names = list(results)
    rows = []
    for label in names:
        runs = results[label]
        rows.append(
            [
                label,
                median(runs, "rps"),
                f"{median(runs, 'p50'):.2f}",
                f"{median(runs, 'p99'):.2f}",
                int(sum(r["non2xx"] for r in runs)),
            ]
        )
    one = median(results[names[0]], "rps") / median(results[names[1]], "rps")
    page = median(results[names[2]], "rps") / median(results[names[3]], "rps")
    body = (
        table(["request", "req/s (median)", "p50 ms", "p99 ms", "non-2xx"], rows)
        + f"\n\nRatios Carrier Desk / reference (req/s): one ticket **{one:.2f}**, a page of "
        f"100 changed since an instant **{page:.2f}**. {args.tickets:,} tickets in each "
        f"system (bulk-loaded with INSERT … SELECT generate_series in {load_s:.0f} s, each "
        "Carrier Desk ticket with its open reception clock); ids read round-robin from "
        f"1,000 sampled; {args.rounds} interleaved rounds of {args.seconds} s, wrk 32 "
        "connections on its own core. Carrier Desk also checks the bearer token, scopes by "
        "tenant and returns the SLA clocks with each ticket."
    )
    write_section(
        "reads",
        "Ticket reads and sync",
        f"uv run python -m bench.reads --tickets {args.tickets}",
        body,
    )


if __name__ == "__main__":
    main()
