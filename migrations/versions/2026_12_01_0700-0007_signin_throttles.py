"""Sign-in failures are counted per account name and client address, not on the user row;
sessions carry the refresh-token family they belong to.

Revision ID: 0007_signin_throttles
Revises: 0006_order_product_line
Create Date: 2026-12-01 07:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_signin_throttles'
down_revision: str | Sequence[str] | None = '0006_order_product_line'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'signin_throttles',
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key_hash', name=op.f('pk_signin_throttles')),
    )
    # A session signed in before families existed is a family of its own.
    op.add_column('user_sessions', sa.Column('family_id', sa.Uuid(), nullable=True))
    op.execute('UPDATE user_sessions SET family_id = id')
    op.alter_column('user_sessions', 'family_id', nullable=False)
    op.create_index(
        op.f('ix_user_sessions_family_id'), 'user_sessions', ['family_id'], unique=False
    )
    op.drop_column('users', 'locked_until')
    op.drop_column('users', 'failed_logins')


def downgrade() -> None:
    op.add_column(
        'users',
        sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False),
    )
    op.add_column('users', sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
    op.alter_column('users', 'failed_logins', server_default=None)
    op.drop_index(op.f('ix_user_sessions_family_id'), table_name='user_sessions')
    op.drop_column('user_sessions', 'family_id')
    op.drop_table('signin_throttles')
