"""Attachments: files on tickets and billing requests, their bytes in a deferred bytea.

Revision ID: 0014_attachments
Revises: 0011_tickets_without_service
Create Date: 2026-12-01 10:30:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014_attachments'
down_revision: str | Sequence[str] | None = '0011_tickets_without_service'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'attachments',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('enterprise_id', sa.Uuid(), nullable=False),
        sa.Column('ticket_id', sa.Uuid(), nullable=True),
        sa.Column('billing_request_id', sa.Uuid(), nullable=True),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=255), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('visibility', sa.String(length=16), nullable=False),
        sa.Column('author', sa.String(length=320), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.CheckConstraint(
            'num_nonnulls(ticket_id, billing_request_id) = 1',
            name=op.f('ck_attachments_one_owner'),
        ),
        sa.ForeignKeyConstraint(
            ['billing_request_id'],
            ['billing_requests.id'],
            name=op.f('fk_attachments_billing_request_id_billing_requests'),
        ),
        sa.ForeignKeyConstraint(
            ['enterprise_id'],
            ['enterprises.id'],
            name=op.f('fk_attachments_enterprise_id_enterprises'),
        ),
        sa.ForeignKeyConstraint(
            ['ticket_id'], ['tickets.id'], name=op.f('fk_attachments_ticket_id_tickets')
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    )
    op.create_index(
        'ix_attachments_billing_request_id_created_at_id',
        'attachments',
        ['billing_request_id', 'created_at', 'id'],
        unique=False,
    )
    op.create_index(
        'ix_attachments_ticket_id_created_at_id',
        'attachments',
        ['ticket_id', 'created_at', 'id'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index('ix_attachments_ticket_id_created_at_id', table_name='attachments')
    op.drop_index('ix_attachments_billing_request_id_created_at_id', table_name='attachments')
    op.drop_table('attachments')
