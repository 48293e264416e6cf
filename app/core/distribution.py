"""Where each table lives on Citus: distributed by `enterprise_id`, or a reference table.

On a database with the `citus` extension, `carrierdesk migrate` (and so `serve` and
`worker`, which migrate on start-up) ends with `distribute`: the tenant tables are
distributed by `enterprise_id`, co-located, and every other table becomes a reference
table (a copy on every node). It is idempotent: a table already placed is left alone, so a
second run changes nothing and an upgrade places the tables a new migration made. On plain
PostgreSQL it does nothing. docs/SCALING.md says why each table is where it is.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, text

logger = logging.getLogger("carrierdesk.distribution")

# A customer's rows: keyed `(enterprise_id, …)`, references between them carry
# `enterprise_id`, so one enterprise's rows share a shard and its queries route to it.
# Parents before children (a reference needs its parent placed first).
DISTRIBUTED = (
    "accounts",
    "account_team_members",
    "notification_contacts",
    "services",
    "tickets",
    "sla_clocks",
    "tmf_ticket_attributes",
    "sonata_ticket_attributes",
    "billing_requests",
    "attachments",
    "change_requests",
    "orders",
    "events",
    "outbox",
    "mail_messages",
    "webhook_endpoints",
    "webhook_deliveries",
    "webhook_attempts",
    "maintenance_feeds",
    "maintenance_impacts",
    "incident_services",
    "incident_tickets",
)

# Everything else is small, read with every request or shared by all tenants: enterprises,
# the directory, policies and calendars; identity (users, API clients, sessions and their
# memberships: a bearer token is resolved before its enterprise is known); idempotency
# answers (keyed by the caller, not the tenant); the provider's maintenances and incidents;
# mailboxes and inbound mail (a message is stored before its enterprise is known, and
# Citus never moves a row to another shard).
NOT_PLACED = ("alembic_version",)

_HAS_CITUS = text("SELECT 1 FROM pg_extension WHERE extname = 'citus'")
_PLACED = text("SELECT logicalrelid::regclass::text FROM pg_dist_partition")
_TABLES = text(
    "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
)
_REFERENCES = text(
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE contype = 'f' AND connamespace = current_schema()::regnamespace "
    "AND (conrelid::regclass::text = ANY(:moving) OR confrelid::regclass::text = ANY(:moving))"
)


def reference_tables(all_tables: set[str]) -> list[str]:
    return sorted(all_tables - set(DISTRIBUTED) - set(NOT_PLACED))


def distribute(connection: Connection) -> tuple[int, int]:
    """Place every table not yet placed; answer how many tables are distributed and how many
    are reference tables afterwards (0, 0 without Citus). Runs outside a transaction."""
    if connection.execute(_HAS_CITUS).scalar() is None:
        return 0, 0
    placed = set(connection.execute(_PLACED).scalars())
    tables = set(connection.execute(_TABLES).scalars())
    to_reference = [t for t in reference_tables(tables) if t not in placed]
    to_distribute = [t for t in DISTRIBUTED if t in tables and t not in placed]
    moving = to_reference + to_distribute
    if moving:
        # Citus places a table only when no foreign key ties it to a table still local:
        # take the keys off, place everything, put them back as they were.
        # One transaction: keys to reference tables cannot be added after a parallel
        # operation on a distributed table in it, so Citus works one connection at a time.
        connection.execute(text("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'"))
        keys = connection.execute(_REFERENCES, {"moving": moving}).all()
        for table, name, _definition in keys:
            connection.execute(text(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
        for table in to_reference:
            connection.execute(text("SELECT create_reference_table(:t)"), {"t": table})
        anchor = next((t for t in DISTRIBUTED if t in placed), None)
        for table in to_distribute:
            connection.execute(
                text("SELECT create_distributed_table(:t, 'enterprise_id', colocate_with => :c)"),
                {"t": table, "c": anchor or "none"},
            )
            anchor = anchor or table
        for table, name, definition in keys:
            connection.execute(text(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'))
        logger.info(
            "tables placed on citus",
            extra={"distributed": len(to_distribute), "reference": len(to_reference)},
        )
    counts = connection.execute(
        text(
            "SELECT count(*) FILTER (WHERE partmethod = 'h'), count(*) FILTER (WHERE "
            "partmethod = 'n') FROM pg_dist_partition"
        )
    ).one()
    return int(counts[0]), int(counts[1])
