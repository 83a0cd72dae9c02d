"""workflows: work-order and complaint life cycles, community hotline, complaint figures, parked outbox rows

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 19:00:00

Issue 16 (work orders, complaints, outbox) and issue 13 item 6 (urgent reports, hotline).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_WORK_ORDER_COLUMNS = (
    ("kind", sa.String(length=16), "common"),
    ("note", sa.Text(), ""),
    ("alerts", sa.Integer(), "0"),
)


def upgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hotline", sa.String(length=32), nullable=False, server_default=""))

    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        for name, type_, default in _WORK_ORDER_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=False, server_default=default))
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by_staff_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("assigned_staff_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("closed_by_staff_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_alert_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_work_orders_acknowledged_by_staff_id_staff"), "staff", ["acknowledged_by_staff_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_work_orders_assigned_staff_id_staff"), "staff", ["assigned_staff_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_work_orders_closed_by_staff_id_staff"), "staff", ["closed_by_staff_id"], ["id"]
        )

    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("community_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("acknowledged_by_staff_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("alerts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_alert_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("compensation_fen", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("compensation_bearer", sa.String(length=16), nullable=False, server_default=""))
        batch_op.create_foreign_key(
            batch_op.f("fk_complaints_community_id_communities"), "communities", ["community_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_complaints_acknowledged_by_staff_id_staff"), "staff", ["acknowledged_by_staff_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_complaints_closed_at"), ["closed_at"], unique=False)

    with op.batch_alter_table("merchant_evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("complaints", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("compensation_fen", sa.BigInteger(), nullable=False, server_default="0"))

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_parked_at"), ["parked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_parked_at"))
        batch_op.drop_column("parked_at")
    with op.batch_alter_table("merchant_evaluations", schema=None) as batch_op:
        batch_op.drop_column("complaints")
        batch_op.drop_column("compensation_fen")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaints_closed_at"))
        batch_op.drop_constraint(batch_op.f("fk_complaints_acknowledged_by_staff_id_staff"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_complaints_community_id_communities"), type_="foreignkey")
        for name in ("community_id", "acknowledged_at", "acknowledged_by_staff_id", "alerts", "last_alert_at",
                     "compensation_fen", "compensation_bearer"):
            batch_op.drop_column(name)
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        for fk in ("acknowledged_by_staff_id", "assigned_staff_id", "closed_by_staff_id"):
            batch_op.drop_constraint(batch_op.f(f"fk_work_orders_{fk}_staff"), type_="foreignkey")
        for name in ("kind", "note", "alerts", "acknowledged_at", "acknowledged_by_staff_id", "assigned_staff_id",
                     "closed_by_staff_id", "rejected_at", "rating", "last_alert_at"):
            batch_op.drop_column(name)
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("hotline")
