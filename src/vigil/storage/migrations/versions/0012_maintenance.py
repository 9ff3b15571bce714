"""equipment register and maintenance tickets: equipment with its history and documents, tickets with their cameras,
fault events and history; maintenance windows planned from a ticket

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 08:00:00.000000

``equipment`` holds one row per piece of equipment (a camera's device record under its camera id, switches, port
groups, power supplies, nodes and their disks, third-party recorders) with the links it depends on
(``depends_on``), a revision, and for cameras the device values of ``vigil.yaml`` as last applied (``seed``);
``equipment_history`` records every change (the fields, old and new) and ``equipment_documents`` the files kept
with it (datasheets, photos; stored by SHA-256). ``tickets`` are work orders (ADR 0015), linked to the cameras they
concern (``ticket_cameras``) and the fault events of their episodes (``ticket_events``), with every change in
``ticket_history``. Both histories are append-only (triggers refuse UPDATE and DELETE on SQLite and PostgreSQL).
``alarm_suppressions.ticket_id`` names the ticket a maintenance window was planned from.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

APPEND_ONLY = ("equipment_history", "ticket_history")


def _sqlite_triggers(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_{act.lower()} BEFORE {act} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for act in ("UPDATE", "DELETE")
    ]


def _postgresql_triggers(table: str) -> list[str]:
    return [
        f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$",
        f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
    ]


def upgrade() -> None:
    op.create_table(
        "equipment",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("site", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("serial", sa.Text(), nullable=False),
        sa.Column("firmware", sa.Text(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=32), nullable=False),
        sa.Column("vendor", sa.Text(), nullable=False),
        sa.Column("vendor_contact", sa.Text(), nullable=False),
        sa.Column("installer_contact", sa.Text(), nullable=False),
        sa.Column("installed", sa.String(length=10), nullable=False),
        sa.Column("warranty_end", sa.String(length=10), nullable=False),
        sa.Column("lens", sa.Text(), nullable=False),
        sa.Column("fov_deg", sa.Float(), nullable=True),
        sa.Column("mount_height_m", sa.Float(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("depends_on", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("removed_us", sa.BigInteger(), nullable=True),
        sa.Column("seed", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_equipment_kind", "equipment", ["kind"], unique=False)
    op.create_table(
        "equipment_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("equipment_id", sa.String(length=64), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("change", sa.String(length=24), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_equipment_history_equipment", "equipment_history", ["equipment_id", "id"], unique=False)
    op.create_table(
        "equipment_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("equipment_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("added_us", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.Text(), nullable=False),
        sa.Column("removed_us", sa.BigInteger(), nullable=True),
        sa.Column("removed_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_equipment_documents_equipment", "equipment_documents", ["equipment_id"], unique=False)
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("equipment_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_ref", sa.Text(), nullable=False),
        sa.Column("opened_us", sa.BigInteger(), nullable=False),
        sa.Column("opened_by", sa.Text(), nullable=False),
        sa.Column("updated_us", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("cameras", sa.JSON(), nullable=False),
        sa.Column("first_seen_us", sa.BigInteger(), nullable=True),
        sa.Column("last_seen_us", sa.BigInteger(), nullable=True),
        sa.Column("fault_cleared_us", sa.BigInteger(), nullable=True),
        sa.Column("respond_due_us", sa.BigInteger(), nullable=True),
        sa.Column("restore_due_us", sa.BigInteger(), nullable=True),
        sa.Column("responded_us", sa.BigInteger(), nullable=True),
        sa.Column("acknowledged_by", sa.Text(), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=False),
        sa.Column("vendor", sa.Text(), nullable=False),
        sa.Column("resolved_us", sa.BigInteger(), nullable=True),
        sa.Column("resolved_by", sa.Text(), nullable=False),
        sa.Column("verified_us", sa.BigInteger(), nullable=True),
        sa.Column("verify_note", sa.Text(), nullable=False),
        sa.Column("closed_us", sa.BigInteger(), nullable=True),
        sa.Column("closed_by", sa.Text(), nullable=False),
        sa.Column("work_done", sa.JSON(), nullable=False),
        sa.Column("parts", sa.JSON(), nullable=False),
        sa.Column("time_spent_min", sa.Integer(), nullable=False),
        sa.Column("vendor_ref", sa.Text(), nullable=False),
        sa.Column("good_picture", sa.Text(), nullable=False),
        sa.Column("fault_picture", sa.Text(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.Column("overdue", sa.JSON(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_tickets_state", "tickets", ["state", "priority", "opened_us"], unique=False)
    op.create_index("ix_tickets_equipment", "tickets", ["equipment_id", "kind", "id"], unique=False)
    op.create_table(
        "ticket_cameras",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_id", "camera_id"),
    )
    op.create_index("ix_ticket_cameras_camera", "ticket_cameras", ["camera_id"], unique=False)
    op.create_table(
        "ticket_events",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_id", "event_id"),
    )
    op.create_index("ix_ticket_events_event", "ticket_events", ["event_id"], unique=False)
    op.create_table(
        "ticket_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_history_ticket", "ticket_history", ["ticket_id", "id"], unique=False)
    op.add_column("alarm_suppressions", sa.Column("ticket_id", sa.Integer(), nullable=True))
    dialect = op.get_context().dialect.name
    for table in APPEND_ONLY:
        make = {"sqlite": _sqlite_triggers, "postgresql": _postgresql_triggers}.get(dialect)
        for statement in make(table) if make is not None else []:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    with op.batch_alter_table("alarm_suppressions") as batch:
        batch.drop_column("ticket_id")
    for name in ("ticket_history", "ticket_events", "ticket_cameras", "tickets"):
        op.drop_table(name)
    for name in ("equipment_documents", "equipment_history", "equipment"):
        op.drop_table(name)
