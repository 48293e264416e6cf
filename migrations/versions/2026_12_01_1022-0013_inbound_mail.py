"""Mail in: the mailboxes Carrier Desk answers for, and every message received (raw bytes,
what it became; one row per Message-ID).

Revision ID: 0013_inbound_mail
Revises: 0010_one_time_links
Create Date: 2026-12-01 10:22:35.203662+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013_inbound_mail'
down_revision: str | Sequence[str] | None = '0010_one_time_links'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mailboxes',
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('default_severity', sa.String(length=16), nullable=True),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_mailboxes'))
    )
    op.create_table('inbound_messages',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('enterprise_id', sa.Uuid(), nullable=True),
    sa.Column('message_id', sa.String(length=998), nullable=True),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('mailbox', sa.String(length=254), nullable=False),
    sa.Column('envelope_from', sa.String(length=254), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('sender', sa.String(length=254), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=True),
    sa.Column('result_type', sa.String(length=32), nullable=True),
    sa.Column('result_id', sa.Uuid(), nullable=True),
    sa.Column('result_number', sa.String(length=32), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], name=op.f('fk_inbound_messages_enterprise_id_enterprises')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages'))
    )
    op.create_index('ix_inbound_messages_enterprise_id_updated_at_id', 'inbound_messages', ['enterprise_id', 'updated_at', 'id'], unique=False)
    op.create_index('ix_inbound_messages_sender_acknowledged_at', 'inbound_messages', ['sender', 'acknowledged_at'], unique=False)
    op.create_index('ix_inbound_messages_to_process', 'inbound_messages', ['received_at'], unique=False, postgresql_where=sa.text("status = 'received'"))
    op.create_index('ix_inbound_messages_updated_at_id', 'inbound_messages', ['updated_at', 'id'], unique=False)
    op.create_index('uq_inbound_messages_message_id', 'inbound_messages', ['message_id'], unique=True, postgresql_where=sa.text('message_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('uq_inbound_messages_message_id', table_name='inbound_messages', postgresql_where=sa.text('message_id IS NOT NULL'))
    op.drop_index('ix_inbound_messages_updated_at_id', table_name='inbound_messages')
    op.drop_index('ix_inbound_messages_to_process', table_name='inbound_messages', postgresql_where=sa.text("status = 'received'"))
    op.drop_index('ix_inbound_messages_sender_acknowledged_at', table_name='inbound_messages')
    op.drop_index('ix_inbound_messages_enterprise_id_updated_at_id', table_name='inbound_messages')
    op.drop_table('inbound_messages')
    op.drop_table('mailboxes')
