"""Orders name their product line as services do: `product` becomes `product_line`.

Revision ID: 0006_order_product_line
Revises: 0004_delivery
Create Date: 2026-12-01 06:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0006_order_product_line'
down_revision: str | Sequence[str] | None = '0004_delivery'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A rename keeps every order's value (autogenerate would drop and add the column).
    op.alter_column('orders', 'product', new_column_name='product_line')
    # The recorded `order.created` events carry the same name: their payload model
    # (app.services.orders.events.OrderCreated) reads `product_line` and refuses other keys.
    op.execute(
        "UPDATE events SET data = (data - 'product')"
        " || jsonb_build_object('product_line', data -> 'product')"
        " WHERE type = 'order.created' AND data ? 'product'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE events SET data = (data - 'product_line')"
        " || jsonb_build_object('product', data -> 'product_line')"
        " WHERE type = 'order.created' AND data ? 'product_line'"
    )
    op.alter_column('orders', 'product_line', new_column_name='product')
