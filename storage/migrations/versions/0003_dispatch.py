"""dispatch: job-card location, escalation, staff assignment and payout on orders; order history

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-26 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_chat_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("card_message_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("card_posted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("assigned_by_staff_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("payout_fen", sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_orders_assigned_by_staff_id_staff"), "staff", ["assigned_by_staff_id"], ["id"]
        )

    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_events_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_events_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_events_order_id"))
    op.drop_table("order_events")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_orders_assigned_by_staff_id_staff"), type_="foreignkey")
        batch_op.drop_column("payout_fen")
        batch_op.drop_column("assigned_by_staff_id")
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("card_posted_at")
        batch_op.drop_column("card_message_id")
        batch_op.drop_column("card_chat_id")
