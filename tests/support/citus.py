"""A fresh database on a Citus cluster, for the tests marked `citus`.

The cluster is one that `scripts/citus-cluster start` runs (a coordinator and two workers on
loopback), or any other whose coordinator `CARRIERDESK_CITUS_URL` names (its maintenance
database, default `postgresql://postgres@127.0.0.1:5441/postgres`). When nothing answers
there, or Citus is not loaded, the test is skipped, saying how to start one.

Citus keeps one cluster per database: the new database is created on the coordinator and on
every worker, with the extension in each, and the coordinator and the workers are registered
in the coordinator's copy. The workers are those the coordinator already knows in its
maintenance database or in `carrierdesk` (what the script sets up), or those
`CARRIERDESK_CITUS_WORKERS` names (`host:port host:port`, seen from the coordinator).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from app.core.database import as_asyncpg_url, as_libpq_url

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5441/postgres"
HOW_TO_START = (
    "scripts/citus-cluster build <citus checkout at v13.0.5> && scripts/citus-cluster start"
)

Node = tuple[str, int]


def _url(base: str, node: Node | None = None, database: str | None = None) -> str:
    parts = urlsplit(as_libpq_url(base))
    netloc = parts.netloc
    if node is not None:
        user = netloc.rpartition("@")[0]
        netloc = f"{user}@{node[0]}:{node[1]}" if user else f"{node[0]}:{node[1]}"
    path = "/" + database if database is not None else parts.path
    return urlunsplit(parts._replace(netloc=netloc, path=path))


async def _connect(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url, timeout=5)


async def _known_workers(url: str) -> list[Node]:
    """The active workers the coordinator has registered in the database `url` names."""
    try:
        conn = await _connect(url)
    except (OSError, asyncpg.PostgresError):
        return []
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_extension WHERE extname = 'citus'"):
            return []
        rows = await conn.fetch(
            "SELECT node_name, node_port FROM citus_get_active_worker_nodes() ORDER BY 1, 2"
        )
        return [(r["node_name"], int(r["node_port"])) for r in rows]
    finally:
        await conn.close()


def _workers_from_env() -> list[Node]:
    nodes = []
    for item in os.environ.get("CARRIERDESK_CITUS_WORKERS", "").split():
        host, _, port = item.rpartition(":")
        nodes.append((host, int(port)))
    return nodes


async def _cluster(maintenance_url: str) -> tuple[Node, list[Node]]:
    """The coordinator's address and its workers; skips the test when there is no cluster."""
    try:
        conn = await _connect(maintenance_url)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.skip(f"no Citus coordinator answers at {maintenance_url} ({exc}): {HOW_TO_START}")
    try:
        loaded = await conn.fetchval(
            "SELECT 'citus' = ANY(string_to_array(current_setting('shared_preload_libraries'),"
            " ',')) AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'citus')"
        )
        if not loaded:
            pytest.skip(
                f"the server at {maintenance_url} has no citus extension loaded: {HOW_TO_START}"
            )
    finally:
        await conn.close()
    parts = urlsplit(maintenance_url)
    coordinator = (parts.hostname or "127.0.0.1", parts.port or 5432)
    workers = (
        _workers_from_env()
        or await _known_workers(maintenance_url)
        or await _known_workers(_url(maintenance_url, database="carrierdesk"))
    )
    if not workers:
        pytest.skip(
            f"the coordinator at {maintenance_url} knows no workers (set "
            f"CARRIERDESK_CITUS_WORKERS='host:port host:port'): {HOW_TO_START}"
        )
    return coordinator, workers


async def _on_node(maintenance_url: str, node: Node, statement: str) -> None:
    conn = await _connect(_url(maintenance_url, node))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
async def citus_database() -> AsyncIterator[str]:
    """The SQLAlchemy URL of a new, empty database on the cluster's coordinator, with the
    citus extension on every node and the workers registered; dropped from every node after."""
    maintenance_url = as_libpq_url(os.environ.get("CARRIERDESK_CITUS_URL", DEFAULT_URL))
    coordinator, workers = await _cluster(maintenance_url)
    name = f"cd_citus_{uuid.uuid4().hex[:8]}"
    nodes = [coordinator, *workers]
    created: list[Node] = []
    try:
        for node in nodes:
            await _on_node(maintenance_url, node, f'CREATE DATABASE "{name}"')
            created.append(node)
            conn = await _connect(_url(maintenance_url, node, name))
            try:
                await conn.execute("CREATE EXTENSION citus")
            finally:
                await conn.close()
        conn = await _connect(_url(maintenance_url, coordinator, name))
        try:
            await conn.execute("SELECT citus_set_coordinator_host($1, $2)", *coordinator)
            for host, port in workers:
                await conn.execute("SELECT citus_add_node($1, $2)", host, port)
        finally:
            await conn.close()
        yield as_asyncpg_url(_url(maintenance_url, coordinator, name))
    finally:
        # The coordinator first: its maintenance daemon holds connections to the workers' copies.
        for node in created:
            await _on_node(maintenance_url, node, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
