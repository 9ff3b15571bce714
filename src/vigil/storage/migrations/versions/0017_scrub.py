"""the scrub (ADR 0016): when each hot segment file was last read back whole

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 00:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.add_column(sa.Column("checked_us", sa.BigInteger(), nullable=True))
    op.create_index("ix_segments_checked", "segments", ["hot", "checked_us"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_segments_checked", table_name="segments")
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("checked_us")
