"""alarms and incidents: alarms with their events and history, suppressions, incidents with their items, notes,
checklist ticks and history

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 01:30:00.000000

``alarms`` holds one row per alarm (its state, who and when at each step, escalation, the events folded into it
counted); ``alarm_events`` links each event to its alarm; ``alarm_history`` records every change. Suppressions
placed at run time (maintenance, disarmed cameras) are in ``alarm_suppressions`` (never deleted: lifted).
``incidents`` are cases: their linked alarms, events and evidence packages (``incident_items``), notes
(``incident_notes``: append-only, triggers refuse UPDATE and DELETE on SQLite and PostgreSQL), checklist ticks
(``incident_steps``) and history (``incident_history``). ADR 0013.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

MESSAGE = "incident notes are append-only: write a correction"
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER incident_notes_no_{act.lower()} BEFORE {act} ON incident_notes "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    for act in ("UPDATE", "DELETE")
]
POSTGRESQL_TRIGGERS = [
    "CREATE FUNCTION incident_notes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$",
    "CREATE TRIGGER incident_notes_no_update_delete BEFORE UPDATE OR DELETE ON incident_notes "
    "FOR EACH ROW EXECUTE FUNCTION incident_notes_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=100), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=True),
        sa.Column("site", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("first_event_id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("created_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.Column("last_event_us", sa.BigInteger(), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("next_escalation_us", sa.BigInteger(), nullable=True),
        sa.Column("acknowledged_by", sa.Text(), nullable=True),
        sa.Column("acknowledged_us", sa.BigInteger(), nullable=True),
        sa.Column("assigned_to", sa.Text(), nullable=True),
        sa.Column("assigned_by", sa.Text(), nullable=True),
        sa.Column("assigned_us", sa.BigInteger(), nullable=True),
        sa.Column("resolved_by", sa.Text(), nullable=True),
        sa.Column("resolved_us", sa.BigInteger(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=False),
        sa.Column("suppressed_by", sa.Text(), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alarms_state", "alarms", ["state", "priority", "created_us"], unique=False)
    op.create_index("ix_alarms_fold", "alarms", ["rule", "camera_id", "state", "last_event_us"], unique=False)
    op.create_index("ix_alarms_escalation", "alarms", ["next_escalation_us"], unique=False)
    op.create_index("ix_alarms_created", "alarms", ["created_us"], unique=False)
    op.create_table(
        "alarm_events",
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("alarm_id", "event_id"),
    )
    op.create_index("ix_alarm_events_event", "alarm_events", ["event_id"], unique=False)
    op.create_table(
        "alarm_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["alarm_id"], ["alarms.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alarm_history_alarm", "alarm_history", ["alarm_id", "id"], unique=False)
    op.create_table(
        "alarm_suppressions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("cameras", sa.JSON(), nullable=False),
        sa.Column("start_us", sa.BigInteger(), nullable=False),
        sa.Column("end_us", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.Text(), nullable=False),
        sa.Column("placed_us", sa.BigInteger(), nullable=False),
        sa.Column("lifted_by", sa.Text(), nullable=True),
        sa.Column("lifted_us", sa.BigInteger(), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_alarm_suppressions_lifted", "alarm_suppressions", ["lifted_us", "end_us"], unique=False)
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_by", sa.Text(), nullable=False),
        sa.Column("opened_us", sa.BigInteger(), nullable=False),
        sa.Column("started_us", sa.BigInteger(), nullable=False),
        sa.Column("acknowledged_us", sa.BigInteger(), nullable=True),
        sa.Column("first_action_us", sa.BigInteger(), nullable=True),
        sa.Column("closed_us", sa.BigInteger(), nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("assigned", sa.JSON(), nullable=False),
        sa.Column("plan_title", sa.Text(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incidents_state", "incidents", ["state", "opened_us"], unique=False)
    op.create_table(
        "incident_items",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("added_by", sa.Text(), nullable=False),
        sa.Column("added_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "kind", "ref"),
    )
    op.create_table(
        "incident_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("corrects", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_notes_incident", "incident_notes", ["incident_id", "id"], unique=False)
    op.create_table(
        "incident_steps",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("by", sa.Text(), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "step"),
    )
    op.create_table(
        "incident_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_incident_history_incident", "incident_history", ["incident_id", "id"], unique=False)
    dialect = op.get_context().dialect.name
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS incident_notes_no_update_delete ON incident_notes")
        op.execute("DROP FUNCTION IF EXISTS incident_notes_append_only()")
    for name in ("incident_history", "incident_steps", "incident_notes", "incident_items", "incidents"):
        op.drop_table(name)
    op.drop_table("alarm_suppressions")
    op.drop_table("alarm_history")
    op.drop_table("alarm_events")
    op.drop_table("alarms")
