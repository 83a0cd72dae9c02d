"""owner database and service lines: households, household tags, survey answers per household,
per-community service lines (立项) and asked-but-not-offered demand

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 19:00:00

Additive only: new tables and one nullable column on survey_responses.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("building", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("room", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"], name=op.f("fk_households_community_id_communities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint("community_id", "building", "unit", "room", name=op.f("uq_households_community_id")),
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_households_community_id"), ["community_id"], unique=False)

    op.create_table(
        "household_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["households.id"],
                                name=op.f("fk_household_tags_household_id_households"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_household_tags_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_tags")),
        sa.UniqueConstraint("household_id", "tag", name=op.f("uq_household_tags_household_id")),
    )
    with op.batch_alter_table("household_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_household_tags_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_household_tags_tag"), ["tag"], unique=False)

    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("household_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_survey_responses_household_id"), ["household_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_survey_responses_household_id_households"), "households", ["household_id"], ["id"]
        )

    op.create_table(
        "community_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"],
                                name=op.f("fk_community_services_community_id_communities")),
        sa.ForeignKeyConstraint(["line_id"], ["butler_lines.id"], name=op.f("fk_community_services_line_id_butler_lines")),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"], name=op.f("fk_community_services_service_id_services")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_community_services_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_services")),
    )
    with op.batch_alter_table("community_services", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_community_services_community_id"), ["community_id"], unique=False)

    op.create_table(
        "service_demand",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["community_id"], ["communities.id"],
                                name=op.f("fk_service_demand_community_id_communities")),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], name=op.f("fk_service_demand_owner_id_owners")),
        sa.ForeignKeyConstraint(["service_id"], ["services.id"], name=op.f("fk_service_demand_service_id_services")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_demand")),
        sa.UniqueConstraint("community_id", "service_id", "owner_id", "day", name=op.f("uq_service_demand_community_id")),
    )
    with op.batch_alter_table("service_demand", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_demand_community_id"), ["community_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_demand_day"), ["day"], unique=False)


def downgrade() -> None:
    op.drop_table("service_demand")
    op.drop_table("community_services")
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_survey_responses_household_id_households"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_survey_responses_household_id"))
        batch_op.drop_column("household_id")
    op.drop_table("household_tags")
    op.drop_table("households")
