"""merge the three feature branches (0002, 0003, 0004) into one line

Revision ID: 0005
Revises: 0002, 0003, 0004
Create Date: 2026-12-01 18:45:00

Every later migration follows this one, so `alembic heads` shows a single head.
"""

from __future__ import annotations

revision = "0005"
down_revision = ("0002", "0003", "0004")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: this revision only joins the branches."""


def downgrade() -> None:
    """Nothing to undo."""
