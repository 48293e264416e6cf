"""Tickets say how they reached the TSC: portal, api, tmf621, sonata or email.

Revision ID: 0016_ticket_channel
Revises: 0013_inbound_mail
Create Date: 2026-12-01 13:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016_ticket_channel'
down_revision: str | Sequence[str] | None = '0013_inbound_mail'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Tickets opened before this revision came through /v1 or TMF621; `api` is the honest
    # default for them (a constant default: no table rewrite on PostgreSQL 11+).
    op.add_column(
        'tickets',
        sa.Column('channel', sa.String(length=16), server_default='api', nullable=False),
    )


def downgrade() -> None:
    op.drop_column('tickets', 'channel')
