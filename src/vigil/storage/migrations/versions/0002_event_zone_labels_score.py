"""events: zone, labels and best score as columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00.000000

Rows written before this revision keep NULL in all three (no zone, no labels, no score). ``labels`` holds the
event's labels lower-case, sorted, each followed and preceded by a comma (``,car,person,``) so one label is
matched exactly with ``LIKE '%,car,%'`` on SQLite and PostgreSQL alike. The (camera_id, start_us) index the
event list needs is already there (``ix_events_camera_time``, revision 0001).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("zone", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("labels", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("score", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("score")
        batch_op.drop_column("labels")
        batch_op.drop_column("zone")
