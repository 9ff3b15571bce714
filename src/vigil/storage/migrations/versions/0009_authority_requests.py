"""authority requests: police, courts and other bodies asking to view or copy footage

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 00:30:00.000000

One row per request: who asked (body, officer, badge, contact), on what legal basis and reference, which cameras
and time range, by when; the admin's decision (who, when, why); the evidence package that fulfilled it. Rows are
never deleted; every step is also in the audit log (``authority_request``).
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
        "authority_requests",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("received_us", sa.BigInteger(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("authority", sa.Text(), nullable=False),
        sa.Column("officer", sa.Text(), nullable=False),
        sa.Column("officer_id", sa.Text(), nullable=False),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("camera_ids", sa.JSON(), nullable=False),
        sa.Column("start_us", sa.BigInteger(), nullable=False),
        sa.Column("end_us", sa.BigInteger(), nullable=False),
        sa.Column("deadline_us", sa.BigInteger(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=False),
        sa.Column("decided_us", sa.BigInteger(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("fulfilled_by", sa.String(64), nullable=False),
        sa.Column("fulfilled_us", sa.BigInteger(), nullable=True),
        sa.Column("package_id", sa.String(64), nullable=False),
        sa.Column("closed_reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_authority_requests_received", "authority_requests", ["received_us"])
    op.create_index("ix_authority_requests_state", "authority_requests", ["state", "received_us"])


def downgrade() -> None:
    op.drop_table("authority_requests")
