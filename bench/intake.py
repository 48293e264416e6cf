"""Ticket intake: `POST /v1/tickets` (the whole path) against a bare asyncpg insert.

uv run python -m bench.intake [--rounds 3] [--seconds 10]
"""

from __future__ import annotations

import argparse

from bench.common import (
    admin_token,
    drop_database,
    fresh_database,
    interleaved,
    lua_post,
    median,
    run,
    start_carrierdesk,
    start_reference,
    table,
    ticket_body,
    write_section,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()

    name, url = run(fresh_database("bench_intake"))
    token = admin_token()
    cd = start_carrierdesk(url, token)
    ref = start_reference(url)
    try:
        auth = {"Authorization": f"Bearer {token}"}
        body = ticket_body(cd.base, auth)
        results = interleaved(
            {
                "Carrier Desk POST /v1/tickets": (
                    cd.base + "/v1/tickets",
                    lua_post("/v1/tickets", auth, body),
                ),
                "reference: FastAPI + asyncpg INSERT": (
                    ref.base + "/tickets",
                    lua_post("/tickets", {}, {"summary": body["summary"], "severity": "major"}),
                ),
            },
            rounds=args.rounds,
            seconds=args.seconds,
        )
    finally:
        cd.stop()
        ref.stop()
        run(drop_database(name))

    cd_runs, ref_runs = results.values()
    rows = []
    for label, runs in results.items():
        rows.append(
            [
                label,
                median(runs, "rps"),
                f"{median(runs, 'p50'):.2f}",
                f"{median(runs, 'p99'):.2f}",
                int(sum(r["non2xx"] for r in runs)),
            ]
        )
    ratio = median(cd_runs, "rps") / median(ref_runs, "rps")
    body_md = (
        table(["system", "req/s (median)", "p50 ms", "p99 ms", "non-2xx"], rows)
        + f"\n\nRatio Carrier Desk / reference (req/s): **{ratio:.2f}**. "
        f"{args.rounds} interleaved rounds of {args.seconds} s, wrk 32 connections on its own "
        "core, each server one uvicorn worker on the other core; Carrier Desk without its "
        "worker (`serve --no-worker`). Carrier Desk's path: bearer token check, validation, "
        "Idempotency-Key record, ticket row, reception clock, `ticket.created` event and "
        "outbox row, NOTIFY, commit. Per-round figures: "
        + "; ".join(f"{k}: " + ", ".join(f"{r['rps']:.0f}" for r in v) for k, v in results.items())
    )
    write_section("intake", "Ticket intake", "uv run python -m bench.intake", body_md)


if __name__ == "__main__":
    main()
