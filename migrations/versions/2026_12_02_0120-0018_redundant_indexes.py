"""Drop the indexes that the `(enterprise_id, …)` primary keys of 0017 made redundant.

Each led with `enterprise_id` alone (or, for `events`, repeated its primary key exactly): the
primary key serves every query they served, and each cost an index entry on every row written,
`ix_events_enterprise_id_id` on every event of every feature.

Revision ID: 0018_redundant_indexes
Revises: 0017_tenant_keys
Create Date: 2026-12-02 01:20:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0018_redundant_indexes'
down_revision: str | Sequence[str] | None = '0017_tenant_keys'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# index: (table, columns)
REDUNDANT = {
    'ix_events_enterprise_id_id': ('events', ['enterprise_id', 'id']),
    'ix_account_team_members_enterprise_id': ('account_team_members', ['enterprise_id']),
    'ix_accounts_enterprise_id': ('accounts', ['enterprise_id']),
    'ix_incident_services_enterprise_id': ('incident_services', ['enterprise_id']),
    'ix_incident_tickets_enterprise_id': ('incident_tickets', ['enterprise_id']),
    'ix_mail_messages_enterprise_id': ('mail_messages', ['enterprise_id']),
    'ix_sonata_ticket_attributes_enterprise_id': ('sonata_ticket_attributes', ['enterprise_id']),
    'ix_tmf_ticket_attributes_enterprise_id': ('tmf_ticket_attributes', ['enterprise_id']),
    'ix_webhook_endpoints_enterprise_id': ('webhook_endpoints', ['enterprise_id']),
}


def upgrade() -> None:
    for index, (table, _columns) in REDUNDANT.items():
        op.drop_index(index, table_name=table)


def downgrade() -> None:
    for index, (table, columns) in REDUNDANT.items():
        op.create_index(index, table, columns, unique=False)
