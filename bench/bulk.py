"""Bulk loading: a million tickets with one INSERT … SELECT over generate_series.

One ticket (and its reception clock) is made through the API; the database
then copies it N times in batches, with fresh ids, numbers and times spread
over the last year, so the rows look like the API's own. No API call per row.
"""

from __future__ import annotations

import time
from typing import Any

import asyncpg

OVERRIDES_TICKET = {
    "id": "gen_random_uuid()",
    "number": "'TT-B-' || g",
    "external_id": "NULL",
    "created_at": "now() - (g % 31536000) * interval '1 second'",
    "updated_at": "now() - (g % 31536000) * interval '1 second'",
    "reported_at": "now() - (g % 31536000) * interval '1 second'",
}


async def _columns(conn: Any, table: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
        "ORDER BY ordinal_position",
        table,
    )
    return [r[0] for r in rows]


async def clone_tickets(
    url: str, template_id: str, n: int, *, with_clocks: bool, batch: int = 100_000, first: int = 1
) -> float:
    """Copy the template ticket (and its open clock) n times, numbering the copies from
    `first` (a later call adds to an earlier one's copies). Returns seconds taken."""
    started = time.perf_counter()
    conn = await asyncpg.connect(url)
    try:
        ticket_cols = await _columns(conn, "tickets")
        clock_cols = [c for c in await _columns(conn, "sla_clocks") if c != "id"]
        select_t = ", ".join(OVERRIDES_TICKET.get(c, c) for c in ticket_cols)
        await conn.execute("SET synchronous_commit = off")
        done = 0
        while done < n:
            size = min(batch, n - done)
            if with_clocks:
                clock_select = ", ".join(
                    {
                        "ticket_id": "t.id",
                        # Far in the future: these clocks never fall due in the run.
                        "due_at": "now() + interval '30 days'",
                        "next_due_at": "now() + interval '30 days'",
                        "started_at": "t.created_at",
                    }.get(c, f"c.{c}")
                    for c in clock_cols
                )
                await conn.execute(
                    f"""
                    WITH t AS (
                        INSERT INTO tickets ({", ".join(ticket_cols)})
                        SELECT {select_t} FROM tickets, generate_series($2::bigint, $3::bigint) g
                        WHERE tickets.id = $1::uuid
                        RETURNING id, created_at
                    )
                    INSERT INTO sla_clocks ({", ".join(clock_cols)})
                    SELECT {clock_select} FROM t,
                        (SELECT * FROM sla_clocks WHERE ticket_id = $1::uuid
                         AND completed_at IS NULL LIMIT 1) c
                    """,
                    template_id,
                    first + done,
                    first + done + size - 1,
                )
            else:
                await conn.execute(
                    f"INSERT INTO tickets ({', '.join(ticket_cols)}) SELECT {select_t} "
                    "FROM tickets, generate_series($2::bigint, $3::bigint) g "
                    "WHERE tickets.id = $1::uuid",
                    template_id,
                    first + done,
                    first + done + size - 1,
                )
            done += size
            print(f"  loaded {done:,} tickets", flush=True)  # noqa: T201
        await conn.execute("ANALYZE tickets")
        await conn.execute("ANALYZE sla_clocks")
    finally:
        await conn.close()
    return time.perf_counter() - started
