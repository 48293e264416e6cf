"""Every tenant table is keyed by its enterprise: ready to distribute by `enterprise_id`.

Primary keys become `(enterprise_id, …)`, references between tenant tables carry
`enterprise_id` (a row never points into another enterprise, and both rows live on one
shard under Citus), codes and numbers are unique per enterprise, and `enterprise_id` is
NOT NULL everywhere (rows of no enterprise carry `NO_TENANT`, the nil UUID). Event, outbox
and clock ids come from plain sequences drawn on the coordinator instead of identity
columns. Valid on plain PostgreSQL; `carrierdesk migrate` distributes on Citus
(`app.core.distribution`).

Revision ID: 0017_tenant_keys
Revises: 0016_ticket_channel
Create Date: 2026-12-01 14:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0017_tenant_keys'
down_revision: str | Sequence[str] | None = '0016_ticket_channel'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_TENANT = '00000000-0000-0000-0000-000000000000'

# Rows that may belong to no enterprise: they carry NO_TENANT, and so no longer reference
# `enterprises` (the nil UUID is none of them).
NULLABLE_TENANT = ('events', 'outbox', 'mail_messages')

# table: the primary key after `enterprise_id`
KEYS = {
    'accounts': ('id',),
    'account_team_members': ('id',),
    'notification_contacts': ('id',),
    'services': ('id',),
    'tickets': ('id',),
    'sla_clocks': ('id',),
    'tmf_ticket_attributes': ('ticket_id',),
    'sonata_ticket_attributes': ('ticket_id',),
    'attachments': ('id',),
    'billing_requests': ('id',),
    'change_requests': ('id',),
    'orders': ('id',),
    'events': ('id',),
    'outbox': ('id',),
    'mail_messages': ('id',),
    'webhook_endpoints': ('id',),
    'webhook_deliveries': ('id',),
    'webhook_attempts': ('id',),
    'incident_services': ('incident_id', 'service_id'),
    'incident_tickets': ('incident_id', 'ticket_id'),
}

# (table, column, parent): a reference between tenant tables
REFERENCES = (
    ('services', 'account_id', 'accounts'),
    ('tickets', 'service_id', 'services'),
    ('sla_clocks', 'ticket_id', 'tickets'),
    ('tmf_ticket_attributes', 'ticket_id', 'tickets'),
    ('sonata_ticket_attributes', 'ticket_id', 'tickets'),
    ('attachments', 'ticket_id', 'tickets'),
    ('attachments', 'billing_request_id', 'billing_requests'),
    ('billing_requests', 'account_id', 'accounts'),
    ('outbox', 'event_id', 'events'),
    ('mail_messages', 'event_id', 'events'),
    ('webhook_deliveries', 'endpoint_id', 'webhook_endpoints'),
    ('webhook_deliveries', 'event_id', 'events'),
    ('webhook_attempts', 'delivery_id', 'webhook_deliveries'),
    ('webhook_attempts', 'endpoint_id', 'webhook_endpoints'),
    ('incident_services', 'service_id', 'services'),
    ('incident_tickets', 'ticket_id', 'tickets'),
)

# (table, old unique columns): unique per enterprise from now on
UNIQUES = (
    ('services', ('code',)),
    ('tickets', ('number',)),
    ('orders', ('number',)),
    ('outbox', ('event_id',)),
    ('webhook_deliveries', ('endpoint_id', 'event_id')),
)

IDENTITIES = ('events', 'outbox', 'sla_clocks')


def upgrade() -> None:
    for table in NULLABLE_TENANT:
        op.execute(f"UPDATE {table} SET enterprise_id = '{NO_TENANT}' WHERE enterprise_id IS NULL")
        op.drop_constraint(f'fk_{table}_enterprise_id_enterprises', table, type_='foreignkey')
        op.alter_column(table, 'enterprise_id', nullable=False)
    for table, column, parent in REFERENCES:
        op.drop_constraint(f'fk_{table}_{column}_{parent}', table, type_='foreignkey')
    for table, columns in UNIQUES:
        op.drop_constraint(f"uq_{table}_{'_'.join(columns)}", table, type_='unique')
        op.create_unique_constraint(
            f"uq_{table}_enterprise_id_{'_'.join(columns)}", table, ['enterprise_id', *columns]
        )
    op.drop_constraint('uq_maintenance_feeds_secret', 'maintenance_feeds', type_='unique')
    op.create_index('ix_maintenance_feeds_secret', 'maintenance_feeds', ['secret'])
    for table in IDENTITIES:
        # The identity's own sequence goes with it: a plain one, owned by the column, takes
        # over where it stopped.
        op.execute(f'ALTER TABLE {table} ALTER COLUMN id DROP IDENTITY')
        op.execute(f'CREATE SEQUENCE {table}_id_seq OWNED BY {table}.id')
        op.execute(
            f"SELECT setval('{table}_id_seq', coalesce(max(id), 0) + 1, false) FROM {table}"
        )
        op.execute(
            f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq'::regclass)"
        )
    for table, key in KEYS.items():
        op.drop_constraint(f'pk_{table}', table, type_='primary')
        op.create_primary_key(f'pk_{table}', table, ['enterprise_id', *key])
        if key == ('id',):
            # Staff, the worker and a lock's tenant look-up find a row by its id alone.
            op.create_index(f'ix_{table}_id', table, ['id'])
    for table, column, parent in REFERENCES:
        op.create_foreign_key(
            f'fk_{table}_enterprise_id_{parent}',
            table,
            parent,
            ['enterprise_id', column],
            ['enterprise_id', 'id'],
        )


def downgrade() -> None:
    for table, _column, parent in REFERENCES:
        op.drop_constraint(f'fk_{table}_enterprise_id_{parent}', table, type_='foreignkey')
    for table, key in KEYS.items():
        if key == ('id',):
            op.drop_index(f'ix_{table}_id', table)
        op.drop_constraint(f'pk_{table}', table, type_='primary')
        op.create_primary_key(f'pk_{table}', table, list(key))
    for table in IDENTITIES:
        op.execute(f'ALTER TABLE {table} ALTER COLUMN id DROP DEFAULT')
        op.execute(f'DROP SEQUENCE {table}_id_seq')
        op.execute(f'ALTER TABLE {table} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY')
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1,"
            f' false) FROM {table}'
        )
    op.drop_index('ix_maintenance_feeds_secret', 'maintenance_feeds')
    op.create_unique_constraint('uq_maintenance_feeds_secret', 'maintenance_feeds', ['secret'])
    for table, columns in UNIQUES:
        op.drop_constraint(f"uq_{table}_enterprise_id_{'_'.join(columns)}", table, type_='unique')
        op.create_unique_constraint(f"uq_{table}_{'_'.join(columns)}", table, list(columns))
    for table, column, parent in REFERENCES:
        op.create_foreign_key(f'fk_{table}_{column}_{parent}', table, parent, [column], ['id'])
    for table in NULLABLE_TENANT:
        op.alter_column(table, 'enterprise_id', nullable=True)
        op.execute(f"UPDATE {table} SET enterprise_id = NULL WHERE enterprise_id = '{NO_TENANT}'")
        op.create_foreign_key(
            f'fk_{table}_enterprise_id_enterprises', table, 'enterprises', ['enterprise_id'], ['id']
        )
