"""notifications: the outbox and every delivery attempt

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:00:00.000000

``notifications`` holds every notification until it is delivered, refused for good or expired, with exactly the
bytes sent (``payload``), its stable id (a UUID, in every message) and its ordering key (the camera); ``seq`` is
the order it was stored in, and so the order of delivery per key. ``notification_attempts`` holds one row per
attempt: when, how long, the outcome, the HTTP status or SMTP reply code, and the error (ADR 0009). Notifications
about events are written in the same transaction as the event (``vigil.storage.outbox``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_bytes", sa.Integer(), nullable=False),
        sa.Column("payload_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("expires_us", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_us", sa.BigInteger(), nullable=False),
        sa.Column("finished_us", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    op.create_index("ix_notifications_heads", "notifications", ["channel", "state", "key", "seq"], unique=False)
    op.create_index("ix_notifications_state", "notifications", ["state", "seq"], unique=False)
    op.create_index("ix_notifications_event", "notifications", ["event_id"], unique=False)
    op.create_table(
        "notification_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notification_seq", sa.Integer(), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["notification_seq"], ["notifications.seq"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notification_attempts_seq", "notification_attempts", ["notification_seq", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_notification_attempts_seq", table_name="notification_attempts")
    op.drop_table("notification_attempts")
    op.drop_index("ix_notifications_event", table_name="notifications")
    op.drop_index("ix_notifications_state", table_name="notifications")
    op.drop_index("ix_notifications_heads", table_name="notifications")
    op.drop_table("notifications")
