"""wall groups: the live wall's named camera groups, per user or shared

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 23:40:00.000000

A group is a named, ordered list of camera ids with a layout (1, 4, 9 or 16 tiles), owned by the user who made it;
``shared`` groups (made by admins) are offered to every user, each seeing only the cameras they may watch.
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
        "wall_groups",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("cameras", sa.JSON(), nullable=False),
        sa.Column("layout", sa.Integer(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("owner", "name", name="uq_wall_groups_owner_name"),
    )


def downgrade() -> None:
    op.drop_table("wall_groups")
