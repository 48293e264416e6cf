"""A one-time link (password reset, invitation) waits beside a queued mail, not in its body,
and is erased once the mail is sent or given up: the mail log keeps no usable link.
Invitations: an account that exists gains enterprises when its owner accepts the link.

Revision ID: 0010_one_time_links
Revises: 0012_sonata_incidents
Create Date: 2026-12-01 10:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0010_one_time_links'
down_revision: str | Sequence[str] | None = '0012_sonata_incidents'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Reset links already in the log, written before this revision: their tokens go.
_LINK = r'(/reset-password\?token=)\S+'


def upgrade() -> None:
    op.add_column('mail_messages', sa.Column('one_time_link', sa.Text(), nullable=True))
    op.execute(
        sa.text(
            "UPDATE mail_messages SET body = regexp_replace(body, :link, :mark, 'g') "
            "WHERE body ~ :link"
        ).bindparams(link=_LINK, mark=r'\1[withheld]')
    )
    op.create_table(
        'invitations',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('enterprise_ids', postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('invited_by', sa.String(length=80), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_invitations_user_id_users'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash')),
    )
    op.create_index(op.f('ix_invitations_user_id'), 'invitations', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_invitations_user_id'), table_name='invitations')
    op.drop_table('invitations')
    op.drop_column('mail_messages', 'one_time_link')
