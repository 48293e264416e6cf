"""A one-time link (password reset, invitation) waits beside a queued mail, not in its body,
and is erased once the mail is sent or given up: the mail log keeps no usable link.

Revision ID: 0010_mail_one_time_link
Revises: 0007_signin_throttles
Create Date: 2026-12-01 10:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010_mail_one_time_link'
down_revision: str | Sequence[str] | None = '0007_signin_throttles'
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


def downgrade() -> None:
    op.drop_column('mail_messages', 'one_time_link')
