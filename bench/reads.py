"""Ticket reads and sync with N tickets in the database, against bare asyncpg selects;
and the memory of `serve` at rest and under that load.

    uv run python -m bench.reads [--tickets 100000,1000000] [--rounds 3] [--seconds 10]
        [--profile out.raw]
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
    Server,
    admin_token,
    drop_database,
    fresh_database,
    profiled,
    run,
    start_carrierdesk,
    start_reference,
    table,
    ticket_body,
    write_section,
)
from bench.load import lua_get_many, median, wrk


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


def interleaved_with_cpu(
    systems: dict[str, tuple[Server, str]], *, rounds: int, seconds: int
) -> dict[str, list[dict[str, float]]]:
    """`common.interleaved`, and the CPU time the serving process spent per request (the
    figure that holds on a shared machine when the rates do not)."""
    results: dict[str, list[dict[str, float]]] = {name: [] for name in systems}
    for _ in range(rounds):
        for name, (server, script) in systems.items():
            cpu = server.cpu_seconds()
            figures = wrk(server.base, seconds=seconds, script=script)
            spent = server.cpu_seconds() - cpu
            figures["cpu_ms"] = 1000 * spent / max(1.0, figures["rps"] * seconds)
            results[name].append(figures)
    return results


def measure(
    cd: Server, ref: Server, auth: dict[str, str], url: str, rounds: int, seconds: int
) -> dict[str, list[dict[str, float]]]:
    """The four requests, interleaved round by round, on the tickets loaded so far."""
    cd_ids = run(sample_ids(url, "tickets"))
    ref_ids = run(sample_ids(url, "ref_tickets"))
    since = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return interleaved_with_cpu(
        {
            "Carrier Desk GET /v1/tickets/{id}": (
                cd,
                lua_get_many([f"/v1/tickets/{i}" for i in cd_ids], auth),
            ),
            "reference GET /tickets/{id}": (
                ref,
                lua_get_many([f"/tickets/{i}" for i in ref_ids], {}),
            ),
            "Carrier Desk GET /v1/tickets?updated_since&limit=100": (
                cd,
                lua_get_many([f"/v1/tickets?updated_since={since}&limit=100"], auth),
            ),
            "reference GET /tickets?updated_since&limit=100": (
                ref,
                lua_get_many([f"/tickets?updated_since={since}&limit=100"], {}),
            ),
        },
        rounds=rounds,
        seconds=seconds,
    )


def main(argv: list[str] | None = None, *, memory_only: bool = False) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--tickets",
        default="100000,1000000",
        help="sizes, comma-separated: each measured in turn, the same database grown to it",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--profile", help="py-spy Carrier Desk's serve while measuring, collapsed stacks here"
    )
    args = parser.parse_args(argv)
    sizes = sorted(int(n) for n in str(args.tickets).split(","))

    name, url = run(fresh_database("bench_reads"))
    token = admin_token()
    auth = {"Authorization": f"Bearer {token}"}
    cd = start_carrierdesk(url, token)
    ref = start_reference(url)
    by_size: dict[int, dict[str, list[dict[str, float]]]] = {}
    load_s: dict[int, float] = {}
    try:
        template = setup(cd.base, auth)
        ours, theirs = 1, 0  # tickets in each system so far (ours: the template)
        for size in sizes:
            load_s[size] = run(
                clone_tickets(url, template, size - ours, with_clocks=True, first=ours)
            )
            run(load_reference(url, size - theirs))
            ours = theirs = size
            time.sleep(2)
            at_rest = cd.rss_mb()
            sampler = RssSampler(cd)
            sampler.start()
            # Only the measured rounds are sampled, not the bulk load (one file: the sizes
            # of a run each overwrite it, so the largest size's profile is what is left).
            with profiled(cd.proc.pid, args.profile):
                by_size[size] = measure(cd, ref, auth, url, args.rounds, args.seconds)
            sampler.halt.set()
            under_load = sampler.peak
    finally:
        cd.stop()
        ref.stop()
        run(drop_database(name))

    largest = sizes[-1]
    memory_md = (
        table(
            ["serve (one process, --no-worker)", "RSS MiB"],
            [
                [f"at rest, {largest:,} tickets loaded", at_rest],
                ["peak under the read load below (32 connections)", under_load],
            ],
        )
        + "\n\nSampled from /proc/<pid>/status (VmRSS) every 0.2 s."
    )
    write_section(
        "memory",
        "Memory of serve",
        f"uv run python -m bench.memory --tickets {largest}",
        memory_md,
    )
    if memory_only:
        return
    rows, ratios, per_round = [], [], []
    for size, results in by_size.items():
        names = list(results)
        for label in names:
            runs = results[label]
            rows.append(
                [
                    f"{size:,}",
                    label,
                    median(runs, "rps"),
                    f"{median(runs, 'p50'):.2f}",
                    f"{median(runs, 'p99'):.2f}",
                    f"{median(runs, 'cpu_ms'):.2f}",
                    int(sum(r["non2xx"] for r in runs)),
                ]
            )
            per_round.append(f"{label} at {size:,}: " + ", ".join(f"{r['rps']:.0f}" for r in runs))
        one = median(results[names[0]], "rps") / median(results[names[1]], "rps")
        page = median(results[names[2]], "rps") / median(results[names[3]], "rps")
        ratios.append(f"at {size:,} tickets one ticket **{one:.2f}**, a page **{page:.2f}**")
    header = ["tickets", "request", "req/s (median)", "p50 ms", "p99 ms"]
    header += ["server CPU ms/request", "non-2xx"]
    loads = ", ".join(f"{s:,} in {t:.0f} s" for s, t in load_s.items())
    body = (
        table(header, rows)
        + "\n\nRatios Carrier Desk / reference (req/s), a page being 100 tickets changed since "
        f"an instant: {'; '.join(ratios)}. The same tickets in each system (bulk-loaded with "
        f"INSERT … SELECT generate_series, grown to each size in turn: {loads}; each Carrier "
        "Desk ticket with its open reception clock); ids read round-robin from 1,000 sampled; "
        f"{args.rounds} interleaved rounds of {args.seconds} s per size, wrk 32 connections on "
        "its own core. Carrier Desk also checks the bearer token, scopes by tenant and returns "
        "the SLA clocks with each ticket. Server CPU: the serving process's user + system time "
        "over the requests it answered in the round (PostgreSQL's not counted). Per-round "
        "req/s: " + "; ".join(per_round) + "."
    )
    write_section(
        "reads",
        "Ticket reads and sync",
        f"uv run python -m bench.reads --tickets {args.tickets}",
        body,
    )


if __name__ == "__main__":
    main()
