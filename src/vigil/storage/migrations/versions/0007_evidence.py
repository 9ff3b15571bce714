"""evidence: legal holds and the register of evidence packages

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 10:00:00.000000

``legal_holds`` holds one row per hold on one camera's footage over ``[start_us, end_us)``: who placed it, when and
why, the evidence package whose export placed it (if one did), and, once lifted, who lifted it, when and why
(``lifted_us`` is NULL while it is active). Retention never deletes a segment an active hold overlaps; the
catalog checks this again in the same transaction that marks a segment for deletion. Rows are never deleted: a
lifted hold stays on record (and both acts are in the audit log).

``evidence_packages`` registers every package exported from this site: who asked, why, for whom, the cameras and
range, where it was written, and the SHA-256 of its signed manifest (ADR 0008). ``ix_ledger_stream_time`` finds
the deleted segments of a stream in a range, which a package names as gaps.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("start_us", sa.BigInteger(), nullable=False),
        sa.Column("end_us", sa.BigInteger(), nullable=False),
        sa.Column("placed_us", sa.BigInteger(), nullable=False),
        sa.Column("placed_by", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("package_id", sa.String(length=64), nullable=True),
        sa.Column("lifted_us", sa.BigInteger(), nullable=True),
        sa.Column("lifted_by", sa.Text(), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_legal_holds_camera_time", "legal_holds", ["camera_id", "start_us"], unique=False)
    op.create_index("ix_legal_holds_lifted", "legal_holds", ["lifted_us"], unique=False)
    op.create_table(
        "evidence_packages",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("client", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("cameras", sa.Text(), nullable=False),
        sa.Column("stream", sa.String(length=16), nullable=False),
        sa.Column("start_us", sa.BigInteger(), nullable=False),
        sa.Column("end_us", sa.BigInteger(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=False),
        sa.Column("key_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("gap_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_evidence_packages_created", "evidence_packages", ["created_us"], unique=False)
    op.create_index("ix_ledger_stream_time", "deletion_ledger", ["camera_id", "stream", "start_us"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ledger_stream_time", table_name="deletion_ledger")
    op.drop_index("ix_evidence_packages_created", table_name="evidence_packages")
    op.drop_table("evidence_packages")
    op.drop_index("ix_legal_holds_lifted", table_name="legal_holds")
    op.drop_index("ix_legal_holds_camera_time", table_name="legal_holds")
    op.drop_table("legal_holds")
