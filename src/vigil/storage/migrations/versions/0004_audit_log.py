"""audit: the append-only, hash-chained audit log

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 10:00:00.000000

One row per audited act (``vigil.domain.audit.AuditEntry``); ``seq`` is the entry's number in the chain, given by
the writer (no autoincrement). Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) so the log is
append-only for anything that goes through SQL without first dropping them; the hash chain is what shows
tampering by whoever does drop them or edits the file (ADR 0005). On other databases there are no triggers.

A later migration that rebuilds ``audit`` (SQLite batch mode copies the table and drops the old one, and its
triggers with it) must create the triggers again: call ``create_append_only_triggers()``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

MESSAGE = "the audit log is append-only"

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
POSTGRESQL_TRIGGERS = [
    "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$",
    "CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only()",
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()",
]


def create_append_only_triggers() -> None:
    dialect = op.get_context().dialect.name
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}.get(dialect, []):
        op.execute(statement)


def drop_append_only_triggers() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_no_update_delete ON audit")
        op.execute("DROP TRIGGER IF EXISTS audit_no_truncate ON audit")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=True),
        sa.Column("range_start_us", sa.BigInteger(), nullable=True),
        sa.Column("range_end_us", sa.BigInteger(), nullable=True),
        sa.Column("client", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_audit_time", "audit", ["at_us"], unique=False)
    op.create_index("ix_audit_actor_time", "audit", ["actor", "at_us"], unique=False)
    op.create_index("ix_audit_camera_time", "audit", ["camera_id", "at_us"], unique=False)
    op.create_index("ix_audit_action_time", "audit", ["action", "at_us"], unique=False)
    create_append_only_triggers()


def downgrade() -> None:
    drop_append_only_triggers()
    op.drop_index("ix_audit_action_time", table_name="audit")
    op.drop_index("ix_audit_camera_time", table_name="audit")
    op.drop_index("ix_audit_actor_time", table_name="audit")
    op.drop_index("ix_audit_time", table_name="audit")
    op.drop_table("audit")
