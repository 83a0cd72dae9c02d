"""household claims (verification by staff or roster) and owner-confirmed amounts on orders

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 19:00:00

Claims already pending when this runs get a claim row each, so `/bindings` shows them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "household_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("building", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("room", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("roster_matched", sa.Boolean(), nullable=False),
        sa.Column("conflict_owner_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_household_claims_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["conflict_owner_id"], ["owners.id"], name=op.f("fk_household_claims_conflict_owner_id_owners")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_staff_id"], ["staff.id"], name=op.f("fk_household_claims_decided_by_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["owners.id"], name=op.f("fk_household_claims_owner_id_owners"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_claims")),
    )
    with op.batch_alter_table("household_claims", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_household_claims_community_id"), ["community_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_household_claims_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_household_claims_status"), ["status"], unique=False)

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proposed_amount_fen", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("proposed_method", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=True))

    # Owners waiting for staff before claims existed: one pending claim each, dated when last seen.
    op.execute(
        "INSERT INTO household_claims (owner_id, community_id, building, unit, room, phone, status,"
        " roster_matched, reason, created_at)"
        " SELECT id, community_id, building, unit, room, phone, 'pending', false, '',"
        " COALESCE(last_message_at, created_at) FROM owners WHERE binding_status = 'pending'"
    )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("proposed_at")
        batch_op.drop_column("proposed_method")
        batch_op.drop_column("proposed_amount_fen")
    with op.batch_alter_table("household_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_household_claims_status"))
        batch_op.drop_index(batch_op.f("ix_household_claims_owner_id"))
        batch_op.drop_index(batch_op.f("ix_household_claims_community_id"))
    op.drop_table("household_claims")
