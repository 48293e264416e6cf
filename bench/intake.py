"""Ticket intake: `POST /v1/tickets` (the whole path) against a bare asyncpg insert.

uv run python -m bench.intake [--rounds 3] [--seconds 10] [--profile out.raw]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from app.core.database import as_asyncpg_url
from bench.common import (
    SERVER_CORE,
    Server,
    admin_token,
    drop_database,
    fresh_database,
    pinned,
    profiled,
    run,
    start_carrierdesk,
    start_reference,
    table,
    ticket_body,
    write_section,
)
from bench.load import lua_post, median, wrk

ALONE = "the use case alone, in process (no HTTP)"


def use_case_alone(url: str, token: str, body: dict[str, object], seconds: int) -> dict[str, float]:
    """`bench.intake_alone` on the server core: intake's use case with no request path."""
    argv = [sys.executable, "-m", "bench.intake_alone", as_asyncpg_url(url), token,
            json.dumps(body), str(seconds)]  # fmt: skip
    out = subprocess.run(pinned(argv, SERVER_CORE), capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return {**figures, "p50": float("nan"), "p99": float("nan"), "non2xx": 0.0}


def measured(
    systems: dict[str, tuple[Server, str, str]],
    *,
    rounds: int,
    seconds: int,
    alone: tuple[str, str, dict[str, object]] | None = None,
) -> dict[str, list[dict[str, float]]]:
    """Like `common.interleaved`, and each round also the server's CPU milliseconds per
    request: on a shared machine a server may get only part of its core, and its CPU per
    request holds where its rate does not. With `alone` (url, token, body), each round also
    runs the use case with no request path (`bench.intake_alone`)."""
    results: dict[str, list[dict[str, float]]] = {name: [] for name in systems}
    if alone is not None:
        results[ALONE] = []
    for _ in range(rounds):
        if alone is not None:
            results[ALONE].append(use_case_alone(*alone, seconds))
        for name, (server, url, script) in systems.items():
            cpu, started = server.cpu_seconds(), time.monotonic()
            figures = wrk(url, seconds=seconds, script=script)
            cpu, elapsed = server.cpu_seconds() - cpu, time.monotonic() - started
            figures["cpu_ms"] = 1000 * cpu / max(figures["rps"] * elapsed, 1)
            figures["core"] = cpu / elapsed
            results[name].append(figures)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--profile", help="py-spy Carrier Desk's serve, collapsed stacks here")
    args = parser.parse_args()

    name, url = run(fresh_database("bench_intake"))
    token = admin_token()
    cd = start_carrierdesk(url, token)
    ref = start_reference(url)
    try:
        auth = {"Authorization": f"Bearer {token}"}
        body = ticket_body(cd.base, auth)
        with profiled(cd.proc.pid, args.profile):
            results = measured(
                {
                    "Carrier Desk POST /v1/tickets": (
                        cd,
                        cd.base + "/v1/tickets",
                        lua_post("/v1/tickets", auth, body),
                    ),
                    "reference: FastAPI + asyncpg INSERT": (
                        ref,
                        ref.base + "/tickets",
                        lua_post("/tickets", {}, {"summary": body["summary"], "severity": "major"}),
                    ),
                },
                rounds=args.rounds,
                seconds=args.seconds,
                alone=(url, token, body),
            )
    finally:
        cd.stop()
        ref.stop()
        run(drop_database(name))

    cd_runs, ref_runs, alone_runs = results.values()
    rows = []
    for label, runs in results.items():
        timed = label != ALONE
        rows.append(
            [
                label,
                median(runs, "rps"),
                f"{median(runs, 'p50'):.2f}" if timed else "-",
                f"{median(runs, 'p99'):.2f}" if timed else "-",
                int(sum(r["non2xx"] for r in runs)),
                f"{median(runs, 'cpu_ms'):.2f}",
                f"{median(runs, 'core'):.2f}",
            ]
        )
    ratio = median(cd_runs, "rps") / median(ref_runs, "rps")
    cpu_ratio = median(ref_runs, "cpu_ms") / median(cd_runs, "cpu_ms")
    alone_ratio = median(alone_runs, "rps") / median(ref_runs, "rps")
    header = [
        "system",
        "req/s (median)",
        "p50 ms",
        "p99 ms",
        "non-2xx",
        "server CPU ms per request",
        "share of its core",
    ]
    body_md = (
        table(header, rows)
        + f"\n\nRatio Carrier Desk / reference (req/s): **{ratio:.2f}**; by server CPU per "
        f"request (reference / Carrier Desk): **{cpu_ratio:.2f}**. The use case alone, with no "
        f"request path at all, reaches **{alone_ratio:.2f}** of the reference's whole HTTP path: "
        "the ceiling of any work on routing, parsing and answering. "
        f"{args.rounds} interleaved rounds of {args.seconds} s, wrk 32 connections on its own "
        "core, each server one uvicorn worker on the other core; Carrier Desk without its "
        "worker (`serve --no-worker`). Carrier Desk's path: bearer token check, validation, "
        "Idempotency-Key record, ticket row, reception clock, `ticket.created` event and "
        "outbox row, NOTIFY, commit (the bearer token's caller remembered between requests, "
        "`core.caller_cache`). Server CPU is the process's own (user + system, /proc) over "
        "the round, divided by the requests answered; the share of its core says how much "
        "of the core the server got (1.00: all of it; less: the machine was busy elsewhere, "
        "and then the CPU ratio is the steadier figure). The use case alone "
        "(`bench.intake_alone`): 32 tasks in one process pinned to the server core, each "
        "parsing the body, claiming a fresh key, running `open_ticket` on a pooled "
        "connection and serialising the answer, its CPU that process's own. Per-round req/s: "
        + "; ".join(f"{k}: " + ", ".join(f"{r['rps']:.0f}" for r in v) for k, v in results.items())
    )
    write_section("intake", "Ticket intake", "uv run python -m bench.intake", body_md)


if __name__ == "__main__":
    main()
