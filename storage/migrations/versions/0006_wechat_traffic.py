"""real WeChat traffic (issue 12): send results, blocked owners, delivery msgids, attachments

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_send_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("msgid", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=64), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=True),
        sa.Column("filter_count", sa.Integer(), nullable=True),
        sa.Column("sent_count", sa.Integer(), nullable=True),
        sa.Column("error_count", sa.Integer(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wechat_send_results")),
        sa.UniqueConstraint("msgid", name=op.f("uq_wechat_send_results_msgid")),
    )
    with op.batch_alter_table("owners", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blocked", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("broadcast_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wechat_msgid", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_broadcast_deliveries_wechat_msgid"), ["wechat_msgid"], unique=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachments", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachments", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_column("attachments")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("attachments")
    with op.batch_alter_table("broadcast_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcast_deliveries_wechat_msgid"))
        batch_op.drop_column("wechat_msgid")
    with op.batch_alter_table("owners", schema=None) as batch_op:
        batch_op.drop_column("blocked")
    op.drop_table("wechat_send_results")
