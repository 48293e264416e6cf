"""The reference: what a team could write in an afternoon instead of Carrier Desk.

Bare FastAPI and an asyncpg pool, one uvicorn worker: insert one row, select
one row, select a page of 100 rows changed since an instant. No auth, no
validation beyond FastAPI's, no idempotency, no clocks, no events.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

SCHEMA = """
CREATE TABLE IF NOT EXISTS ref_tickets (
    id uuid PRIMARY KEY,
    summary text NOT NULL,
    severity text NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_ref_tickets_updated ON ref_tickets (updated_at, id);
"""

pool: Any = None


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(os.environ["REFERENCE_DATABASE_URL"], min_size=5, max_size=20)
    async with pool.acquire() as conn:
        await conn.execute(SCHEMA)
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


class TicketIn(BaseModel):
    summary: str
    severity: str


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/tickets", status_code=201)
async def create(ticket: TicketIn) -> dict[str, Any]:
    row = await pool.fetchrow(
        "INSERT INTO ref_tickets (id, summary, severity, updated_at) VALUES ($1, $2, $3, $4) "
        "RETURNING id, summary, severity, updated_at",
        uuid.uuid4(),
        ticket.summary,
        ticket.severity,
        datetime.now(UTC),
    )
    return dict(row)


@app.get("/tickets/{ticket_id}")
async def read(ticket_id: uuid.UUID) -> dict[str, Any]:
    row = await pool.fetchrow(
        "SELECT id, summary, severity, updated_at FROM ref_tickets WHERE id = $1", ticket_id
    )
    if row is None:
        raise HTTPException(404)
    return dict(row)


@app.get("/tickets")
async def page(updated_since: datetime, limit: int = 100) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT id, summary, severity, updated_at FROM ref_tickets WHERE updated_at >= $1 "
        "ORDER BY updated_at, id LIMIT $2",
        updated_since,
        limit,
    )
    return [dict(r) for r in rows]
