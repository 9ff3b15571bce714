"""storage tiers (ADR 0016): segments' copies on tiers, whether a segment is still hot and holds event footage,
and the tiers a deletion took it from

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.add_column(sa.Column("hot", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("event_footage", sa.Boolean(), nullable=True))
    with op.batch_alter_table("deletion_ledger") as batch:
        batch.add_column(sa.Column("tiers", sa.String(length=200), nullable=False, server_default="hot"))
    op.create_table(
        "segment_copies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("started_us", sa.BigInteger(), nullable=False),
        sa.Column("verified_us", sa.BigInteger(), nullable=True),
        sa.Column("checked_us", sa.BigInteger(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["segment_id"], ["segments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("segment_id", "tier", name="uq_segment_copies_tier"),
    )
    op.create_index("ix_segment_copies_tier", "segment_copies", ["tier", "state"], unique=False)


def downgrade() -> None:
    op.drop_table("segment_copies")
    with op.batch_alter_table("deletion_ledger") as batch:
        batch.drop_column("tiers")
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("event_footage")
        batch.drop_column("hot")
