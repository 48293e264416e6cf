"""Orders, billing requests, change requests and planned maintenance (GCR).

Revision ID: 0005_requests
Revises: 0003_tickets
Create Date: 2026-11-22 21:08:59.372101+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0005_requests'
down_revision: str | Sequence[str] | None = '0003_tickets'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Human numbers: ORD-YYYY-NNNNNN and GCR-YYYY-NNNNNN.
    op.execute('CREATE SEQUENCE order_number_seq')
    op.execute('CREATE SEQUENCE gcr_number_seq')
    op.create_table('maintenance_policies',
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('window_start', sa.Time(), nullable=False),
    sa.Column('window_end', sa.Time(), nullable=False),
    sa.Column('notice_days', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('country', name=op.f('pk_maintenance_policies'))
    )
    op.create_table('maintenances',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('gcr_number', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('expected_impact', sa.String(length=16), nullable=False),
    sa.Column('impacted_service_ids', postgresql.ARRAY(sa.Uuid()), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_maintenances')),
    sa.UniqueConstraint('gcr_number', name=op.f('uq_maintenances_gcr_number'))
    )
    op.create_index('ix_maintenances_updated_at_id', 'maintenances', ['updated_at', 'id'], unique=False)
    op.create_table('change_requests',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('enterprise_id', sa.Uuid(), nullable=False),
    sa.Column('catalog_item', sa.String(length=64), nullable=True),
    sa.Column('standard', sa.Boolean(), nullable=False),
    sa.Column('service_ids', postgresql.ARRAY(sa.Uuid()), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('analysis_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('routed_to', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('scheduled_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('scheduled_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_change_requests_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_requests'))
    )
    op.create_index('ix_change_requests_enterprise_id_updated_at_id', 'change_requests', ['enterprise_id', 'updated_at', 'id'], unique=False)
    op.create_index('ix_change_requests_updated_at_id', 'change_requests', ['updated_at', 'id'], unique=False)
    op.create_table('maintenance_feeds',
    sa.Column('enterprise_id', sa.Uuid(), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_maintenance_feeds_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('enterprise_id', name=op.f('pk_maintenance_feeds')),
    sa.UniqueConstraint('secret', name=op.f('uq_maintenance_feeds_secret'))
    )
    op.create_table('maintenance_impacts',
    sa.Column('maintenance_id', sa.Uuid(), nullable=False),
    sa.Column('enterprise_id', sa.Uuid(), nullable=False),
    sa.Column('service_ids', postgresql.ARRAY(sa.Uuid()), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_maintenance_impacts_enterprise_id_enterprises')),
    sa.ForeignKeyConstraint(['maintenance_id'], ['maintenances.id'], name=op.f('fk_maintenance_impacts_maintenance_id_maintenances')),
    sa.PrimaryKeyConstraint('maintenance_id', 'enterprise_id', name=op.f('pk_maintenance_impacts'))
    )
    op.create_index(op.f('ix_maintenance_impacts_enterprise_id'), 'maintenance_impacts', ['enterprise_id'], unique=False)
    op.create_table('orders',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('enterprise_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('product', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('sites', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('requested_delivery_date', sa.Date(), nullable=True),
    sa.Column('expected_delivery_date', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('customer_care_manager', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('touchpoints', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_orders_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_orders_number'))
    )
    op.create_index('ix_orders_enterprise_id_updated_at_id', 'orders', ['enterprise_id', 'updated_at', 'id'], unique=False)
    op.create_index('ix_orders_updated_at_id', 'orders', ['updated_at', 'id'], unique=False)
    op.create_table('billing_requests',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('enterprise_id', sa.Uuid(), nullable=False),
    sa.Column('account_id', sa.Uuid(), nullable=True),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ack_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('effective_invoice', sa.String(length=7), nullable=True),
    sa.Column('route_to', sa.String(length=254), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('credit_amount', sa.Numeric(precision=14, scale=4), nullable=True),
    sa.Column('credit_currency', sa.String(length=3), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_billing_requests_account_id_accounts')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_billing_requests_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_requests'))
    )
    op.create_index('ix_billing_requests_enterprise_id_updated_at_id', 'billing_requests', ['enterprise_id', 'updated_at', 'id'], unique=False)
    op.create_index('ix_billing_requests_updated_at_id', 'billing_requests', ['updated_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_billing_requests_updated_at_id', table_name='billing_requests')
    op.drop_index('ix_billing_requests_enterprise_id_updated_at_id', table_name='billing_requests')
    op.drop_table('billing_requests')
    op.drop_index('ix_orders_updated_at_id', table_name='orders')
    op.drop_index('ix_orders_enterprise_id_updated_at_id', table_name='orders')
    op.drop_table('orders')
    op.drop_index(op.f('ix_maintenance_impacts_enterprise_id'), table_name='maintenance_impacts')
    op.drop_table('maintenance_impacts')
    op.drop_table('maintenance_feeds')
    op.drop_index('ix_change_requests_updated_at_id', table_name='change_requests')
    op.drop_index('ix_change_requests_enterprise_id_updated_at_id', table_name='change_requests')
    op.drop_table('change_requests')
    op.drop_index('ix_maintenances_updated_at_id', table_name='maintenances')
    op.drop_table('maintenances')
    op.drop_table('maintenance_policies')
    op.execute('DROP SEQUENCE gcr_number_seq')
    op.execute('DROP SEQUENCE order_number_seq')
