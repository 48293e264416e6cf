"""One plain PostgreSQL server beside a three-node Citus cluster: intake rate and breach lag.

    uv run python -m bench.citus [--rounds 2] [--seconds 10] [--tickets 300] [--target 15]

Each target gets a fresh database and its own `carrierdesk serve` (with its worker), which
migrates it (on Citus: 22 tables distributed by enterprise_id, the rest reference tables).
1. Intake: `POST /v1/tickets`, wrk at 32 connections, the targets alternating round by round.
2. Breach lag: the EC policy's reception target set to `--target` seconds, `--tickets`
   tickets opened at once so their clocks fall due together, then `breached_at - due_at` of
   each clock once all breached, and the `sla.breached` events per clock (one each).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from bench.common import (
    LOAD_CORE,
    Server,
    admin_token,
    drop_citus_database,
    drop_database,
    fresh_citus_database,
    fresh_database,
    pg_version,
    run,
    start_carrierdesk,
    table,
    ticket_body,
    write_section,
)
from bench.load import interleaved, lua_post, median, percentile

PLAIN = "postgresql://postgres@127.0.0.1:5432"
COORDINATOR = "postgresql://postgres@127.0.0.1:5441"
WORKER_PORTS = (5442, 5443)
WRK_TIMEOUT = 30  # seconds: a slow answer counts in p99 rather than vanish as a timeout
POLICY_READ_ONLY = ("country", "version", "updated_at")


@dataclass
class Target:
    label: str
    url: str
    server: Server
    auth: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)
    version: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)


def shorten_reception(target: Target, seconds: float) -> None:
    """PUT the EC policy back with its reception target set to `seconds` (If-Match)."""
    with httpx.Client(base_url=target.server.base, headers=target.auth) as c:
        got = c.get("/v1/sla-policies/EC")
        got.raise_for_status()
        policy = {k: v for k, v in got.json().items() if k not in POLICY_READ_ONLY}
        policy["targets"]["reception"] = f"PT{seconds:g}S"
        put = c.put("/v1/sla-policies/EC", json=policy, headers={"If-Match": got.headers["ETag"]})
        put.raise_for_status()


async def open_tickets(target: Target, n: int, concurrency: int = 32) -> tuple[list[str], int]:
    """Open n tickets, `concurrency` at a time; their ids, and how many were refused."""
    ids: list[str] = []
    refused = 0
    todo = iter(range(n))

    async def opener(c: httpx.AsyncClient) -> None:
        nonlocal refused
        for _ in todo:
            r = await c.post(
                "/v1/tickets", json=target.body, headers={"Idempotency-Key": uuid.uuid4().hex}
            )
            if r.status_code == 201:
                ids.append(r.json()["id"])
            else:
                refused += 1

    async with httpx.AsyncClient(base_url=target.server.base, headers=target.auth, timeout=60) as c:
        await asyncio.gather(*(opener(c) for _ in range(concurrency)))
    return ids, refused


async def scalar(url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


BREACHED = (
    "SELECT count(*) FROM sla_clocks WHERE enterprise_id = $1 AND ticket_id = ANY($2::uuid[]) "
    "AND stage = 'reception' AND breached_at IS NOT NULL"
)
# Each reception clock with its lag and the `sla.breached` events that name it.
CLOCKS = """
SELECT c.id, extract(epoch FROM c.breached_at - c.due_at) AS lag, c.due_at, count(e.id) AS n
FROM sla_clocks c
LEFT JOIN events e ON e.enterprise_id = c.enterprise_id AND e.subject_type = 'ticket'
    AND e.subject_id = c.ticket_id AND e.type = 'sla.breached'
    AND (e.data->>'clock_id')::bigint = c.id
WHERE c.enterprise_id = $1 AND c.ticket_id = ANY($2::uuid[]) AND c.stage = 'reception'
GROUP BY c.id, c.breached_at, c.due_at
"""


async def clocks(url: str, enterprise: str, ids: list[str]) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(CLOCKS, uuid.UUID(enterprise), ids))
    finally:
        await conn.close()


def wait_for_outbox(target: Target, timeout: float = 300) -> float:
    """Wait until the worker has fanned out every event; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not run(scalar(target.url, "SELECT count(*) FROM outbox WHERE processed_at IS NULL")):
            break
        time.sleep(1)
    return time.monotonic() - started


def breach_lag(target: Target, tickets: int, seconds: float) -> dict[str, Any]:
    shorten_reception(target, seconds)
    cpu = target.server.cpu_seconds()
    started = time.monotonic()
    ids, refused = run(open_tickets(target, tickets))
    opening = time.monotonic() - started
    enterprise = target.body["enterprise_id"]
    deadline = time.monotonic() + seconds + 180
    while time.monotonic() < deadline:
        if run(scalar(target.url, BREACHED, uuid.UUID(enterprise), ids)) >= len(ids):
            break
        time.sleep(0.5)
    phase = time.monotonic() - started
    cpu = target.server.cpu_seconds() - cpu
    time.sleep(3)  # a second breach of the same clock would be recorded by now
    rows = run(clocks(target.url, enterprise, ids))
    lags = [float(r["lag"]) for r in rows if r["lag"] is not None]
    dues = [r["due_at"] for r in rows]
    return {
        "opened": len(ids),
        "refused": refused,
        "opening_s": opening,
        "phase_s": phase,
        "cpu_s": cpu,
        "due_spread_s": (max(dues) - min(dues)).total_seconds() if dues else float("nan"),
        "breached": len(lags),
        "p50": percentile(lags, 50),
        "p99": percentile(lags, 99),
        "max": max(lags, default=float("nan")),
        "once": sum(1 for r in rows if r["n"] == 1),
        "not_once": sorted({int(r["n"]) for r in rows if r["n"] != 1}),
    }


async def set_defaults(url: str, settings: list[str]) -> None:
    """`ALTER DATABASE … SET key = value` for each `key=value`: new connections take it."""
    conn = await asyncpg.connect(url)
    try:
        name = await conn.fetchval("SELECT current_database()")
        for setting in settings:
            key, _, value = setting.partition("=")
            await conn.execute(f'ALTER DATABASE "{name}" SET {key} = {quote_literal(value)}')
    finally:
        await conn.close()


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def start(targets: list[Target], label: str, url: str, token: str) -> Target:
    """`serve` (with its worker) on a fresh database, added to `targets` (so it is stopped
    whatever fails next), with an enterprise and service to open tickets on."""
    server = start_carrierdesk(url, token, worker=True, timeout=600)
    target = Target(label, url, server, {"Authorization": f"Bearer {token}"})
    targets.append(target)
    target.version = run(pg_version(url))
    target.body = ticket_body(server.base, target.auth)
    return target


@dataclass
class Results:
    targets: list[Target]
    warmup: dict[str, list[dict[str, float]]]
    intake: dict[str, list[dict[str, float]]]
    lag: dict[str, dict[str, Any]]


def measure(args: argparse.Namespace) -> Results:
    token = admin_token()
    workers = [int(p) for p in args.workers.split(",")]
    plain_db, plain_url = run(fresh_database("bench_citus", args.plain))
    citus_db, citus_url = run(fresh_citus_database("bench_citus", args.coordinator, workers))
    targets: list[Target] = []
    try:
        for url in (plain_url, citus_url):
            run(set_defaults(url, args.setting))
        start(targets, "PostgreSQL, one server", plain_url, token)
        citus = start(targets, f"Citus, coordinator + {len(workers)} workers", citus_url, token)
        citus.version += ", Citus " + run(
            scalar(citus_url, "SELECT extversion FROM pg_extension WHERE extname = 'citus'")
        )
        systems: dict[str, tuple[str, str | None]] = {
            t.label: (t.server.base + "/v1/tickets", lua_post("/v1/tickets", t.auth, t.body))
            for t in targets
        }
        # Not counted: fills each pool to the 32 connections wrk holds open (a new
        # connection looks its types up on its first statements, seconds on these servers).
        warm = interleaved(systems, rounds=1, seconds=args.warmup, timeout=WRK_TIMEOUT)
        intake = interleaved(systems, rounds=args.rounds, seconds=args.seconds, timeout=WRK_TIMEOUT)
        lag = {}
        for t in targets:
            drained = wait_for_outbox(t)
            lag[t.label] = breach_lag(t, args.tickets, args.target) | {"drain_s": drained}
        return Results(targets, warm, intake, lag)
    finally:
        for t in targets:
            t.errors = t.server.errors()
            t.server.stop()
            for i, record in enumerate(t.errors):
                last = str(record.get("exc", "")).strip().splitlines()[-1:] or [""]
                print(f"ERROR in {t.label}'s serve log:", record["msg"], "|", last[0])  # noqa: T201
                if i == 0:
                    print(record)  # noqa: T201  the first in full (its SQL, if any)
        run(drop_database(plain_db, args.plain))
        run(drop_citus_database(citus_db, args.coordinator, workers))


def report(args: argparse.Namespace, results: Results) -> str:
    targets, intake, lag = results.targets, results.intake, results.lag
    rows = [
        [
            t.label,
            median(intake[t.label], "rps"),
            f"{median(intake[t.label], 'p99'):.1f}",
            int(sum(r["non2xx"] for r in intake[t.label])),
            int(sum(r["timeouts"] for r in intake[t.label])),
            ", ".join(f"{r['rps']:.0f}" for r in intake[t.label]),
        ]
        for t in targets
    ]
    plain, citus = (median(intake[t.label], "rps") for t in targets)
    lag_rows = []
    for t in targets:
        r = lag[t.label]
        once = f"{r['once']} / {r['opened']}"
        if r["not_once"]:
            once += " (other counts seen: " + ", ".join(map(str, r["not_once"])) + ")"
        lag_rows.append(
            [
                t.label,
                f"{r['opened']} / {args.tickets}",
                f"{r['opening_s']:.1f}",
                f"{r['breached']} / {r['opened']}",
                f"{r['p50'] * 1000:.0f}",
                f"{r['p99'] * 1000:.0f}",
                f"{r['max'] * 1000:.0f}",
                once,
                f"{r['phase_s']:.0f} / {r['cpu_s']:.1f}",
            ]
        )
    errors = "; ".join(
        f"{t.label}: {len(t.errors)}"
        + (f" (first: {t.errors[0].get('msg')!r})" if t.errors else "")
        for t in targets
    )
    return (
        "Intake, `POST /v1/tickets`:\n\n"
        + table(
            ["target", "req/s (median)", "p99 ms", "non-2xx", "timeouts", "req/s per round"], rows
        )
        + f"\n\nCitus / plain (req/s): **{citus / plain:.2f}**. {args.rounds} interleaved "
        f"rounds of {args.seconds} s, wrk 32 connections on its own core "
        f"(timeout {WRK_TIMEOUT} s), after "
        f"{args.warmup} s of the same load on each target, not counted ("
        + ", ".join(f"{r[0]['rps']:.0f} req/s" for r in results.warmup.values())
        + ").\n\n"
        f"Breach lag, {args.tickets} tickets opened at once (32 concurrent requests) with the "
        f"EC reception target set to {args.target:g} s:\n\n"
        + table(
            [
                "target",
                "opened / asked",
                "opening s",
                "breached / opened",
                "lag p50 ms",
                "lag p99 ms",
                "lag max ms",
                "clocks with exactly one sla.breached",
                "phase s / serve CPU s",
            ],
            lag_rows,
        )
        + "\n\nServers: "
        + "; ".join(f"{t.label}: PostgreSQL {t.version}" for t in targets)
        + ". Every node on this same machine, unpinned; each target its own fresh database "
        "and its own `carrierdesk serve` with its worker, pinned to the server core (both "
        "running throughout, the idle one beside the measured one). Before the breach "
        "phase each worker had fanned out the intake's outbox ("
        + ", ".join(f"{lag[t.label]['drain_s']:.0f} s" for t in targets)
        + "). The phase runs from the first ticket opened to the last breach recorded; serve "
        "CPU is the serve process's (API and worker) in that time. Lag = `breached_at − "
        "due_at` in `sla_clocks`; the dues spread over "
        + ", ".join(f"{lag[t.label]['due_spread_s']:.1f} s" for t in targets)
        + f". ERROR records in the serve logs: {errors}."
        + (
            f" Both databases were set {', '.join(args.setting)} (ALTER DATABASE SET)."
            if args.setting
            else ""
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=10, help="seconds of load not counted")
    parser.add_argument("--tickets", type=int, default=300, help="tickets falling due together")
    parser.add_argument("--target", type=float, default=15.0, help="reception target, seconds")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a server setting for both fresh databases (ALTER DATABASE SET), e.g. jit=off",
    )
    parser.add_argument("--plain", default=PLAIN, help="plain PostgreSQL server URL")
    parser.add_argument("--coordinator", default=COORDINATOR, help="Citus coordinator URL")
    parser.add_argument("--workers", default=",".join(map(str, WORKER_PORTS)), help="ports")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):  # the ticket opener runs where wrk does
        os.sched_setaffinity(0, {int(LOAD_CORE)})
    results = measure(args)
    settings = ", ".join(f"`{x}`" for x in args.setting)
    title = "Plain PostgreSQL and Citus side by side"
    write_section(
        "citus-settings" if settings else "citus",
        title + (f", databases set {settings}" if settings else ""),
        "uv run python -m bench.citus " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        report(args, results),
    )


if __name__ == "__main__":
    main()
