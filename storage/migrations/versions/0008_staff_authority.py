"""staff authority: active flag, hand-offs and broadcast decisions keep the staff id, notice reasons

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:00:00

Records point at the staff row (who acted), never at a raw Telegram id that anyone could claim.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("staff_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_handoffs_staff_id_staff"), "staff", ["staff_id"], ["id"], ondelete="SET NULL")
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("notice_reason", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("decided_by_staff_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("decided_by_staff_id")
        batch.drop_column("notice_reason")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_constraint(op.f("fk_handoffs_staff_id_staff"), type_="foreignkey")
        batch.drop_column("staff_id")
    with op.batch_alter_table("staff") as batch:
        batch.drop_column("active")
