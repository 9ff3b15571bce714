"""events: search indexes, a full-text index and per-user review marks

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 10:00:00.000000

``event_reviews`` holds one row per (event, user) who marked the event reviewed. The event list filters by type and
zone through ``ix_events_type_time`` and ``ix_events_zone_time`` (newest first within each, like
``ix_events_camera_time``); ``ix_events_long`` holds only the events that lasted over an hour or have not ended, so
a search over a time range reads the others from an hour before the range on, and these apart.

On SQLite with FTS5 and its trigram tokenizer (3.35 or later), ``events_fts`` indexes every event's description
and labels for substring search (ADR 0007): an external-content table (the text stays in ``events``), filled from
the events already there and kept in step by triggers on INSERT, UPDATE and DELETE. Where FTS5 or the trigram
tokenizer is missing, and on other databases, there is no such table and the catalog searches with LIKE alone. On
SQLite a trigger also removes an event's review marks with the event (PostgreSQL: the foreign key's ON DELETE
CASCADE; SQLite does not enforce foreign keys here).

A later migration that rebuilds ``events`` (SQLite batch mode copies the table and drops the old one, and its
triggers with it) must create the triggers again: call ``create_search_triggers()``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LONG_EVENT = "end_us IS NULL OR end_us - start_us > 3600000000"  # vigil.storage.schema.LONG_EVENT, as it was
FTS_MIN_SQLITE = (3, 35, 0)  # trigram tokenizer 3.34; MATERIALIZED common table expressions (the catalog's) 3.35

SQLITE_FTS_TABLE = (
    "CREATE VIRTUAL TABLE events_fts USING fts5(description, labels, content='events', content_rowid='id', "
    "tokenize='trigram case_sensitive 0', columnsize=0)"
)
_INDEX_NEW = "INSERT INTO events_fts (rowid, description, labels) VALUES (new.id, new.description, new.labels);"
_FORGET_OLD = (
    "INSERT INTO events_fts (events_fts, rowid, description, labels) "
    "VALUES ('delete', old.id, old.description, old.labels);"
)
SQLITE_FTS_TRIGGERS = [
    f"CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN {_INDEX_NEW} END",
    f"CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN {_FORGET_OLD} END",
    f"CREATE TRIGGER events_fts_update AFTER UPDATE OF id, description, labels ON events BEGIN {_FORGET_OLD} "
    f"{_INDEX_NEW} END",
]
SQLITE_REVIEW_TRIGGER = (
    "CREATE TRIGGER event_reviews_of_deleted AFTER DELETE ON events BEGIN "
    "DELETE FROM event_reviews WHERE event_id = old.id; END"
)


def full_text_available() -> bool:
    """Whether this database is SQLite with FTS5 and the trigram tokenizer (when writing SQL offline: SQLite)."""
    context = op.get_context()
    if context.dialect.name != "sqlite":
        return False
    if context.as_sql:
        return True
    bind = op.get_bind()
    version = str(bind.exec_driver_sql("SELECT sqlite_version()").scalar_one())
    has_fts5 = bool(bind.exec_driver_sql("SELECT sqlite_compileoption_used('ENABLE_FTS5')").scalar_one())
    return has_fts5 and tuple(int(part) for part in version.split(".")[:3]) >= FTS_MIN_SQLITE


def has_full_text_index() -> bool:
    context = op.get_context()
    if context.dialect.name != "sqlite":
        return False
    if context.as_sql:
        return True
    found = op.get_bind().exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events_fts'")
    return found.first() is not None


def create_search_triggers() -> None:
    """The triggers on ``events`` that this revision adds (after a rebuild of the table, call again)."""
    if op.get_context().dialect.name != "sqlite":
        return
    op.execute(SQLITE_REVIEW_TRIGGER)
    if has_full_text_index():
        for statement in SQLITE_FTS_TRIGGERS:
            op.execute(statement)


def drop_search_triggers() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    for name in ("events_fts_insert", "events_fts_delete", "events_fts_update", "event_reviews_of_deleted"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    op.create_table(
        "event_reviews",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("at_us", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_id", "username"),
    )
    op.create_index("ix_events_type_time", "events", ["type", "start_us"], unique=False)
    op.create_index("ix_events_zone_time", "events", ["zone", "start_us"], unique=False)
    op.create_index(
        "ix_events_long",
        "events",
        ["start_us", "end_us"],
        unique=False,
        sqlite_where=sa.text(LONG_EVENT),
        postgresql_where=sa.text(LONG_EVENT),
    )
    if full_text_available():
        op.execute(SQLITE_FTS_TABLE)
        op.execute("INSERT INTO events_fts (events_fts) VALUES ('rebuild')")  # the events already there
        op.execute("INSERT INTO events_fts (events_fts) VALUES ('optimize')")  # one segment: later inserts stay cheap
    create_search_triggers()


def downgrade() -> None:
    drop_search_triggers()
    if op.get_context().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS events_fts")
    op.drop_index("ix_events_long", table_name="events")
    op.drop_index("ix_events_zone_time", table_name="events")
    op.drop_index("ix_events_type_time", table_name="events")
    op.drop_table("event_reviews")
