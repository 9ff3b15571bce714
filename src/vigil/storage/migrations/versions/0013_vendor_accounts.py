"""vendor accounts: a user may belong to a vendor (their technicians see that vendor's equipment and tickets only)
and be usable only within an access window

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("vendor", sa.Text(), server_default="", nullable=False))
    op.add_column("users", sa.Column("access_from_us", sa.BigInteger(), nullable=True))
    op.add_column("users", sa.Column("access_until_us", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("access_until_us")
        batch.drop_column("access_from_us")
        batch.drop_column("vendor")
