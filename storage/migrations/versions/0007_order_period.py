"""orders.scheduled_period: the period an owner named (上午), so no invented hour is shown

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the nullable column; existing orders keep showing their clock time."""
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("scheduled_period", sa.String(length=8), nullable=True))


def downgrade() -> None:
    """Drop the column."""
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("scheduled_period")
