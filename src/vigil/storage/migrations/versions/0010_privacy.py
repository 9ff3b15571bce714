"""privacy: the evidence register says whether a package's pictures were masked, and links redacted packages

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 10:00:00.000000

``evidence_packages.masks_applied``: privacy masks were burned into the package's pictures (ADR 0012).
``redaction_of``: a redacted package (faces, plates or people hidden) names the original package it was made from;
``redacted`` lists what it hides (``faces,plates,people``). Packages exported before keep the defaults (no masks
existed, nothing redacted).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence_packages") as batch:
        batch.add_column(sa.Column("masks_applied", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("redaction_of", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("redacted", sa.Text(), nullable=False, server_default=""))
        batch.create_index("ix_evidence_packages_redaction_of", ["redaction_of"])


def downgrade() -> None:
    with op.batch_alter_table("evidence_packages") as batch:
        batch.drop_index("ix_evidence_packages_redaction_of")
        batch.drop_column("redacted")
        batch.drop_column("redaction_of")
        batch.drop_column("masks_applied")
