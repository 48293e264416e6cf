"""A ticket may be opened before its service is named (the TSC names it while registering the
case), and a site written on the ticket is information only: both may be absent.

Revision ID: 0011_tickets_without_service
Revises: 0007_signin_throttles
Create Date: 2026-12-01 11:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0011_tickets_without_service'
down_revision: str | Sequence[str] | None = '0007_signin_throttles'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column('tickets', 'service_id', nullable=True)
    op.alter_column('tickets', 'site', existing_type=postgresql.JSONB(), nullable=True)


def downgrade() -> None:
    # Tickets still without a service or a site cannot go back: refuse rather than invent one.
    op.alter_column('tickets', 'site', existing_type=postgresql.JSONB(), nullable=False)
    op.alter_column('tickets', 'service_id', nullable=False)
