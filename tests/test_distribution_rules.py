"""The schema stays distributable by `enterprise_id` (docs/SCALING.md, CONTRIBUTING.md).

Read from the models, which `alembic check` holds equal to the migrated schema: a new table
or constraint that Citus could not place fails here, on plain PostgreSQL, before anyone
tries a cluster. The source lint keeps the queries routable.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import ForeignKeyConstraint, Index, Table, UniqueConstraint

from app.core.distribution import DISTRIBUTED, NOT_PLACED, reference_tables
from app.models import Base

ROOT = Path(__file__).resolve().parents[1]
TABLES: dict[str, Table] = dict(Base.metadata.tables)

# Reference tables that carry an enterprise_id, and why they are not distributed.
REFERENCE_WITH_A_TENANT = {
    # memberships: a bearer token is resolved to its enterprises before any is known
    "api_client_enterprises",
    "user_enterprises",
    # a message is stored before its enterprise is known; Citus never moves a row
    "inbound_messages",
}


def test_every_table_is_placed_once() -> None:
    placed = set(DISTRIBUTED) | set(reference_tables(set(TABLES)))
    assert set(TABLES) - placed == set(), "a table neither distributed nor reference"
    assert set(DISTRIBUTED) <= set(TABLES), "DISTRIBUTED names a table that does not exist"
    assert not set(NOT_PLACED) & set(TABLES)


def test_a_table_with_an_enterprise_is_distributed_or_says_why_not() -> None:
    tenant_tables = {name for name, table in TABLES.items() if "enterprise_id" in table.c}
    assert tenant_tables - set(DISTRIBUTED) == REFERENCE_WITH_A_TENANT


def test_distributed_tables_are_keyed_by_their_enterprise() -> None:
    for name in DISTRIBUTED:
        table = TABLES[name]
        assert not table.c.enterprise_id.nullable, f"{name}.enterprise_id may be NULL"
        key = [c.name for c in table.primary_key.columns]
        assert "enterprise_id" in key, f"{name}: primary key {key}"
        if "id" in key:  # staff and the worker find a row by its id alone
            leading = {next(iter(index.columns)).name for index in table.indexes}
            assert "id" in leading, f"{name}: no index on id"
        for constraint in table.constraints:
            if isinstance(constraint, UniqueConstraint):
                columns = [c.name for c in constraint.columns]
                assert "enterprise_id" in columns, f"{name}: unique {columns} across tenants"
        for index in table.indexes:
            if isinstance(index, Index) and index.unique:
                columns = [c.name for c in index.columns]
                assert "enterprise_id" in columns, f"{name}: unique index {columns}"


def test_references_between_tenant_tables_carry_the_enterprise() -> None:
    for name in DISTRIBUTED:
        for constraint in TABLES[name].constraints:
            if not isinstance(constraint, ForeignKeyConstraint):
                continue
            parent = constraint.referred_table.name
            if parent not in DISTRIBUTED:
                continue  # a reference table: any shard may point at it
            mine = [c.name for c in constraint.columns]
            theirs = [e.column.name for e in constraint.elements]
            assert mine[0] == "enterprise_id", f"{name} -> {parent}: {mine}"
            assert theirs[0] == "enterprise_id", f"{name} -> {parent}: {theirs}"


def _source() -> list[tuple[Path, str]]:
    return [(p, p.read_text()) for p in sorted((ROOT / "app").rglob("*.py"))]


def test_sequences_are_drawn_by_statements_of_their_own() -> None:
    # On Citus a sequence lives on the coordinator: `nextval` inside a query that routes to a
    # shard runs on a worker, where it does not exist. These draw numbers with a statement of
    # their own (`SELECT nextval(…)`), or over the results of the statement's own CTEs, which
    # Citus computes first and hands to the coordinator: intake draws its number over its
    # resolved row (a MATERIALIZED CTE), core/events.py its event ids in an INSERT … SELECT.
    drawn_alone = {
        "app/services/tickets/intake.py",
        "app/services/orders/service.py",
        "app/services/incidents/service.py",
        "app/services/maintenance/service.py",
        "app/core/events.py",
    }
    drawing = {str(path.relative_to(ROOT)) for path, text in _source() if "nextval(" in text}
    assert drawing == drawn_alone


def test_row_locks_go_through_the_routing_helpers() -> None:
    # A lock on a distributed table names its enterprise (`core.claims`, `pinned_to_tenant`);
    # these files lock reference tables only, or name the enterprise in the statement.
    allowed = {
        "app/core/claims.py",
        "app/core/tenancy.py",
        "app/services/delivery/leases.py",
        "app/services/delivery/fanout.py",
        "app/services/delivery/webhook_sender.py",
        "app/workers/worker.py",
        "app/services/tickets/engine.py",
        "app/services/tickets/workflow.py",
        "app/services/tickets/clocks.py",
        "app/services/attachments/service.py",
        "app/services/identity/service.py",
        "app/services/identity/invitations.py",
        "app/services/identity/signin.py",
        "app/services/inbound_mail/mailboxes.py",
        "app/services/inbound_mail/processing.py",
        "app/services/directory/escalation.py",
        "app/services/tickets/sla_policies.py",
        "app/services/calendars/service.py",
    }
    lockers = {
        str(path.relative_to(ROOT))
        for path, text in _source()
        if re.search(r"with_for_update|FOR UPDATE", text)
    }
    assert lockers - allowed == set(), "a new row lock: route it (CONTRIBUTING.md, Citus)"
