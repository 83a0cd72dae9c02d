"""WeCom beside Telegram: merchants and staff get a WeCom userid and the channel they last used

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 22:00:00

A merchant may now be on WeCom only, so merchants.telegram_id becomes nullable (a unique column
still allows several NULLs on both SQLite and PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wecom_userid", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("last_channel", sa.String(length=16), nullable=True))
        batch_op.alter_column("telegram_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.create_unique_constraint(batch_op.f("uq_merchants_wecom_userid"), ["wecom_userid"])
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wecom_userid", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("last_channel", sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_staff_wecom_userid"), ["wecom_userid"])


def downgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_staff_wecom_userid"), type_="unique")
        batch_op.drop_column("last_channel")
        batch_op.drop_column("wecom_userid")
    # WeCom-only merchants cannot keep a NOT NULL telegram_id: they go with the channel.
    op.execute("DELETE FROM merchants WHERE telegram_id IS NULL")
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_merchants_wecom_userid"), type_="unique")
        batch_op.alter_column("telegram_id", existing_type=sa.BigInteger(), nullable=False)
        batch_op.drop_column("last_channel")
        batch_op.drop_column("wecom_userid")
