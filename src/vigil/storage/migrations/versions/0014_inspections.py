"""routine inspections: one row per inspection of a camera, due, done (answers, picture, who) or dropped, with the
ticket it opened

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inspections",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("due_us", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("done_us", sa.BigInteger(), nullable=True),
        sa.Column("done_by", sa.Text(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("picture", sa.Text(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inspections_camera", "inspections", ["camera_id", "name", "id"], unique=False)
    op.create_index("ix_inspections_state", "inspections", ["state", "due_us"], unique=False)


def downgrade() -> None:
    op.drop_table("inspections")
