"""Catalog tables (SQLAlchemy Core). Migrations in ``migrations/versions`` must match these."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)

metadata = MetaData()

LONG_EVENT_US = 3_600_000_000
"""Events that lasted longer than this (an hour), or have not ended, are "long": ``ix_events_long`` holds them, so
a search over a time range reads the short ones from an hour before the range on and finds the long ones apart."""
LONG_EVENT = f"end_us IS NULL OR end_us - start_us > {LONG_EVENT_US}"  # the index's condition, as SQL

segments = Table(
    "segments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("camera_id", String(64), nullable=False),
    Column("stream", String(16), nullable=False),
    Column("path", Text, nullable=False, unique=True),
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("prev_sha256", String(64), nullable=True),
    Column("codec", String(32), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("frame_count", Integer, nullable=False),
    Column("recovered", Boolean, nullable=False, default=False),
    Column("state", String(16), nullable=False, default="ok"),  # ok | deleting
    Column("hot", Boolean, nullable=False, default=True, server_default=true()),  # false: only on tiers (ADR 0016)
    Column("event_footage", Boolean, nullable=True),  # an event in or near it; null: not yet looked at (ADR 0016)
    Column("checked_us", BigInteger, nullable=True),  # the hot file last read back whole (the scrub, revision 0017)
    Index("ix_segments_stream_time", "camera_id", "stream", "start_us"),
    Index("ix_segments_start", "start_us"),
    Index("ix_segments_checked", "hot", "checked_us"),
)

segment_copies = Table(  # a segment's copy on a storage tier (ADR 0016)
    "segment_copies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("segment_id", Integer, ForeignKey("segments.id", ondelete="CASCADE"), nullable=False),
    Column("tier", String(32), nullable=False),
    Column("key", Text, nullable=False),
    Column("state", String(16), nullable=False),  # copying | verified | damaged
    Column("size_bytes", BigInteger, nullable=False),
    Column("started_us", BigInteger, nullable=False),
    Column("verified_us", BigInteger, nullable=True),
    Column("checked_us", BigInteger, nullable=True),
    Column("note", Text, nullable=False, default=""),
    UniqueConstraint("segment_id", "tier", name="uq_segment_copies_tier"),
    Index("ix_segment_copies_tier", "tier", "state"),
)

gaps = Table(
    "gaps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("camera_id", String(64), nullable=False),
    Column("stream", String(16), nullable=False),
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=True),
    Column("cause", String(32), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_gaps_stream_time", "camera_id", "stream", "start_us"),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("type", String(48), nullable=False),
    Column("camera_id", String(64), nullable=True),
    Column("stream", String(16), nullable=True),
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=True),
    Column("description", Text, nullable=False),
    Column("data", JSON, nullable=False, default=dict),
    Column("zone", Text, nullable=True),  # the zone or line it happened in
    Column("labels", Text, nullable=True),  # ",car,person,": lower-case, sorted, comma-framed (exact LIKE match)
    Column("score", Float, nullable=True),  # the best detection score seen during the event
    Index("ix_events_time", "start_us"),
    Index("ix_events_camera_time", "camera_id", "start_us"),
    Index("ix_events_type_time", "type", "start_us"),  # revision 0005, as the next two
    Index("ix_events_zone_time", "zone", "start_us"),
    Index("ix_events_long", "start_us", "end_us", sqlite_where=text(LONG_EVENT), postgresql_where=text(LONG_EVENT)),
)

deletion_ledger = Table(
    "deletion_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("deleted_us", BigInteger, nullable=False),
    Column("segment_id", Integer, nullable=False),
    Column("camera_id", String(64), nullable=False),
    Column("stream", String(16), nullable=False),
    Column("path", Text, nullable=False),
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rule", String(32), nullable=False),  # max_age | max_bytes | check_repair | ...
    Column("actor", String(64), nullable=False),  # "retention" or a user name
    Column("reason", Text, nullable=False),
    Column("prev_entry_sha256", String(64), nullable=True),
    Column("entry_sha256", String(64), nullable=False),
    Column("tiers", String(200), nullable=False, default="hot", server_default="hot"),  # revision 0016
    Index("ix_ledger_sha", "sha256"),
    Index("ix_ledger_stream_time", "camera_id", "stream", "start_us"),  # revision 0007
)

stream_health = Table(
    "stream_health",
    metadata,
    Column("camera_id", String(64), primary_key=True),
    Column("stream", String(16), primary_key=True),
    Column("connected", Boolean, nullable=False),
    Column("since_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("last_packet_us", BigInteger, nullable=True),
    Column("fps", Float, nullable=False, default=0.0),
    Column("bitrate_kbps", Float, nullable=False, default=0.0),
    Column("keyframe_interval_s", Float, nullable=False, default=0.0),
    Column("repaired_packets", Integer, nullable=False, default=0),
    Column("error", Text, nullable=False, default=""),
)

# --- accounts (revision 0003) -----------------------------------------------------------------------------
users = Table(
    "users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("must_change_password", Boolean, nullable=False, default=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("display_name", Text, nullable=False, default=""),
    Column("language", String(8), nullable=False, default="en"),
    Column("vendor", Text, nullable=False, server_default=""),  # revision 0013
    Column("access_from_us", BigInteger, nullable=True),
    Column("access_until_us", BigInteger, nullable=True),
)

grants = Table(
    "grants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("camera_id", String(64), nullable=True),
    Column("site", Text, nullable=True),
    Column("actions", Text, nullable=False, default=""),  # comma-separated extra actions
    Column("history_from_us", BigInteger, nullable=True),
    Column("history_until_us", BigInteger, nullable=True),
    Index("ix_grants_user", "username"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
    Column("client", Text, nullable=False, default=""),
    Index("ix_sessions_user", "username"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Index("ix_api_tokens_user", "username"),
)

# --- audit log (revision 0004) ----------------------------------------------------------------------------
audit = Table(
    "audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),  # 1, 2, 3 ...: set by the writer, never reused
    Column("at_us", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),  # a user name or "system"
    Column("action", String(32), nullable=False),  # vigil.domain.audit.AuditAction
    Column("camera_id", String(64), nullable=True),
    Column("range_start_us", BigInteger, nullable=True),  # the footage viewed or exported
    Column("range_end_us", BigInteger, nullable=True),
    Column("client", Text, nullable=False),  # the client's address
    Column("reason", Text, nullable=False),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_time", "at_us"),
    Index("ix_audit_actor_time", "actor", "at_us"),
    Index("ix_audit_camera_time", "camera_id", "at_us"),
    Index("ix_audit_action_time", "action", "at_us"),
)

# --- event search and review marks (revision 0005) -----------------------------------------------------------
event_reviews = Table(
    "event_reviews",
    metadata,
    Column("event_id", Integer, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True),
    Column("username", String(64), primary_key=True),  # who marked the event reviewed
    Column("at_us", BigInteger, nullable=False),  # when (the first mark; marking again changes nothing)
)

# --- the live wall's camera groups (revision 0006) -----------------------------------------------------------
wall_groups = Table(
    "wall_groups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("owner", String(64), nullable=False),  # the user who made it
    Column("name", String(100), nullable=False),
    Column("cameras", JSON, nullable=False),  # list of camera ids, in the order the wall shows them
    Column("layout", Integer, nullable=False),  # tiles: 1, 4, 9 or 16
    Column("shared", Boolean, nullable=False),  # offered to every user (each sees only the cameras they may)
    Column("updated_us", BigInteger, nullable=False),
    UniqueConstraint("owner", "name", name="uq_wall_groups_owner_name"),
)

# --- notification outbox (revision 0008) -------------------------------------------------------------------
notifications = Table(
    "notifications",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),  # the order stored in: the order per key
    Column("id", String(36), nullable=False, unique=True),  # a UUID, in every message sent
    Column("channel", String(64), nullable=False),
    Column("kind", String(32), nullable=False),  # event | camera_status | alarm
    Column("key", String(64), nullable=False),  # ordering key: the camera id, or "" for the node
    Column("event_id", Integer, nullable=True),
    Column("content_type", String(64), nullable=False),
    Column("payload", LargeBinary, nullable=False),  # exactly the bytes sent
    Column("payload_bytes", Integer, nullable=False),
    Column("payload_sha256", String(64), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # pending | delivered | expired | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_us", BigInteger, nullable=False),
    Column("finished_us", BigInteger, nullable=True),
    Column("last_error", Text, nullable=False),
    Index("ix_notifications_heads", "channel", "state", "key", "seq"),  # each key's oldest pending one
    Index("ix_notifications_state", "state", "seq"),
    Index("ix_notifications_event", "event_id"),
)

notification_attempts = Table(
    "notification_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notification_seq", Integer, ForeignKey("notifications.seq", ondelete="CASCADE"), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("outcome", String(16), nullable=False),  # delivered | retry | failed
    Column("status", Integer, nullable=True),  # HTTP status or SMTP reply code
    Column("error", Text, nullable=False),
    Index("ix_notification_attempts_seq", "notification_seq", "id"),
)

# --- requests from authorities to view or copy footage (revision 0009) ----------------------------------------
authority_requests = Table(
    "authority_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("received_us", BigInteger, nullable=False),
    Column("recorded_by", String(64), nullable=False),
    Column("authority", Text, nullable=False),
    Column("officer", Text, nullable=False),
    Column("officer_id", Text, nullable=False),
    Column("contact", Text, nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # view | copy
    Column("camera_ids", JSON, nullable=False),
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=False),
    Column("deadline_us", BigInteger, nullable=True),
    Column("notes", Text, nullable=False),
    Column("state", String(16), nullable=False),  # received | approved | refused | fulfilled | withdrawn
    Column("decided_by", String(64), nullable=False),
    Column("decided_us", BigInteger, nullable=True),
    Column("decision_reason", Text, nullable=False),
    Column("fulfilled_by", String(64), nullable=False),
    Column("fulfilled_us", BigInteger, nullable=True),
    Column("package_id", String(64), nullable=False),
    Column("closed_reason", Text, nullable=False),
    Index("ix_authority_requests_received", "received_us"),
    Index("ix_authority_requests_state", "state", "received_us"),
)

EVENTS_FTS = "events_fts"
"""On SQLite only: an FTS5 table (trigram tokens) over the events' ``description`` and ``labels``, kept in step with
``events`` by triggers (revision 0005). Not declared in ``metadata``: a virtual table, and its shadow tables
(``events_fts_data``, ``events_fts_idx``, ``events_fts_config``) belong to SQLite."""


def declared_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic's ``include_name`` hook: everything but the full-text index's tables, which ``metadata`` leaves
    out on purpose (:data:`EVENTS_FTS`)."""
    return not (type_ == "table" and name is not None and (name == EVENTS_FTS or name.startswith(EVENTS_FTS + "_")))


# --- legal holds and evidence packages (revision 0007) -------------------------------------------------------
legal_holds = Table(
    "legal_holds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("camera_id", String(64), nullable=False),
    Column("start_us", BigInteger, nullable=False),  # the footage held: [start_us, end_us), every stream
    Column("end_us", BigInteger, nullable=False),
    Column("placed_us", BigInteger, nullable=False),
    Column("placed_by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("package_id", String(64), nullable=True),  # the evidence package whose export placed it
    Column("lifted_us", BigInteger, nullable=True),  # NULL while the hold is active
    Column("lifted_by", Text, nullable=True),
    Column("lift_reason", Text, nullable=True),
    Index("ix_legal_holds_camera_time", "camera_id", "start_us"),
    Index("ix_legal_holds_lifted", "lifted_us"),
)

deletion_requests = Table(  # footage to destroy before its time: an admin asks, an auditor decides (revision 0018)
    "deletion_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("camera_id", String(64), nullable=False),
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("requested_us", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # pending | approved | refused | cancelled
    Column("decided_by", String(64), nullable=False),
    Column("decided_us", BigInteger, nullable=True),
    Column("note", Text, nullable=False),
    Column("segments", Integer, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Index("ix_deletion_requests_decided", "decided_us"),
)

evidence_packages = Table(
    "evidence_packages",
    metadata,
    Column("id", String(64), primary_key=True),  # ev-YYYYMMDD-<hex>
    Column("created_us", BigInteger, nullable=False),
    Column("requested_by", Text, nullable=False),
    Column("client", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("recipient", Text, nullable=False),
    Column("cameras", Text, nullable=False),  # comma-separated camera ids
    Column("stream", String(16), nullable=False),
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=False),
    Column("path", Text, nullable=False),  # where it was written (a folder or a .zip)
    Column("manifest_sha256", String(64), nullable=False),
    Column("key_fingerprint", String(64), nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("gap_count", Integer, nullable=False),
    Column("masks_applied", Boolean, nullable=False, server_default=false()),  # revision 0010
    Column("redaction_of", String(64), nullable=True),  # a redacted package: the original's id
    Column("redacted", Text, nullable=False, server_default=""),  # faces,plates,people
    Index("ix_evidence_packages_created", "created_us"),
    Index("ix_evidence_packages_redaction_of", "redaction_of"),
)

# --- alarms and incidents (revision 0011) ----------------------------------------------------------------------
alarms = Table(
    "alarms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("rule", String(100), nullable=False),
    Column("priority", Integer, nullable=False),  # 1 (most urgent) to 4
    Column("camera_id", String(64), nullable=True),
    Column("site", String(100), nullable=False),
    Column("state", String(16), nullable=False),  # new | acknowledged | assigned | resolved | suppressed
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("first_event_id", Integer, nullable=False),
    Column("last_event_id", Integer, nullable=False),
    Column("event_count", Integer, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("last_event_us", BigInteger, nullable=False),
    Column("escalation_level", Integer, nullable=False),
    Column("next_escalation_us", BigInteger, nullable=True),  # NULL: acknowledged, or no step left
    Column("acknowledged_by", Text, nullable=True),
    Column("acknowledged_us", BigInteger, nullable=True),
    Column("assigned_to", Text, nullable=True),
    Column("assigned_by", Text, nullable=True),
    Column("assigned_us", BigInteger, nullable=True),
    Column("resolved_by", Text, nullable=True),
    Column("resolved_us", BigInteger, nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("resolution_note", Text, nullable=False),
    Column("suppressed_by", Text, nullable=True),
    Column("incident_id", Integer, nullable=True),
    Column("recipients", JSON, nullable=False),  # {"channels": [...], "users": [...], "roles": [...]}
    Index("ix_alarms_state", "state", "priority", "created_us"),
    Index("ix_alarms_fold", "rule", "camera_id", "state", "last_event_us"),
    Index("ix_alarms_escalation", "next_escalation_us"),
    Index("ix_alarms_created", "created_us"),
)

alarm_events = Table(
    "alarm_events",
    metadata,
    Column("alarm_id", Integer, ForeignKey("alarms.id", ondelete="CASCADE"), primary_key=True),
    Column("event_id", Integer, primary_key=True),
    Index("ix_alarm_events_event", "event_id"),
)

alarm_history = Table(
    "alarm_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alarm_id", Integer, ForeignKey("alarms.id", ondelete="CASCADE"), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),
    Column("change", String(16), nullable=False),  # raised | folded | acknowledged | ... (AlarmChange)
    Column("detail", JSON, nullable=False),
    Index("ix_alarm_history_alarm", "alarm_id", "id"),
)

alarm_suppressions = Table(
    "alarm_suppressions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # maintenance | disarm
    Column("cameras", JSON, nullable=False),  # camera ids; [] for every camera
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=True),  # NULL: until lifted
    Column("reason", Text, nullable=False),
    Column("placed_by", Text, nullable=False),
    Column("placed_us", BigInteger, nullable=False),
    Column("lifted_by", Text, nullable=True),
    Column("lifted_us", BigInteger, nullable=True),
    Column("lift_reason", Text, nullable=True),
    Column("ticket_id", Integer, nullable=True),  # revision 0012: a window planned from a maintenance ticket
    Index("ix_alarm_suppressions_lifted", "lifted_us", "end_us"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("type", String(64), nullable=False),
    Column("title", Text, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("place", Text, nullable=False),
    Column("state", String(16), nullable=False),  # open | closed
    Column("opened_by", Text, nullable=False),
    Column("opened_us", BigInteger, nullable=False),
    Column("started_us", BigInteger, nullable=False),
    Column("acknowledged_us", BigInteger, nullable=True),
    Column("first_action_us", BigInteger, nullable=True),
    Column("closed_us", BigInteger, nullable=True),
    Column("closed_by", Text, nullable=True),
    Column("outcome", Text, nullable=False),
    Column("assigned", JSON, nullable=False),  # user names
    Column("plan_title", Text, nullable=False),
    Column("steps", JSON, nullable=False),  # the plan's steps as they were when the incident opened
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_incidents_state", "state", "opened_us"),
)

incident_items = Table(
    "incident_items",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # alarm | event | evidence
    Column("ref", String(64), primary_key=True),
    Column("added_by", Text, nullable=False),
    Column("added_us", BigInteger, nullable=False),
)

incident_notes = Table(
    "incident_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Column("author", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("corrects", Integer, nullable=True),  # the note this one corrects (notes are never edited)
    Index("ix_incident_notes_incident", "incident_id", "id"),
)

incident_steps = Table(
    "incident_steps",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("step", Integer, primary_key=True),  # index into the incident's steps
    Column("status", String(16), nullable=False),  # done | skipped
    Column("by", Text, nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Column("note", Text, nullable=False),
)

incident_history = Table(
    "incident_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),
    Column("change", String(16), nullable=False),  # IncidentChange
    Column("detail", JSON, nullable=False),
    Index("ix_incident_history_incident", "incident_id", "id"),
)

# --- the equipment register and maintenance tickets (revision 0012) ---------------------------------------------
equipment = Table(
    "equipment",
    metadata,
    Column("id", String(64), primary_key=True),  # a camera's is its camera id
    Column("kind", String(16), nullable=False),  # camera | node | disk | switch | port_group | power | recorder | other
    Column("name", Text, nullable=False),
    Column("site", Text, nullable=False),
    Column("location", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("serial", Text, nullable=False),
    Column("firmware", Text, nullable=False),
    Column("ip", String(64), nullable=False),
    Column("mac", String(32), nullable=False),
    Column("vendor", Text, nullable=False),
    Column("vendor_contact", Text, nullable=False),
    Column("installer_contact", Text, nullable=False),
    Column("installed", String(10), nullable=False),  # YYYY-MM-DD or ""
    Column("warranty_end", String(10), nullable=False),
    Column("lens", Text, nullable=False),
    Column("fov_deg", Float, nullable=True),
    Column("mount_height_m", Float, nullable=True),
    Column("notes", Text, nullable=False),
    Column("depends_on", JSON, nullable=False),  # [{"equipment_id": ..., "port": ...}]
    Column("revision", Integer, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("updated_by", Text, nullable=False),
    Column("removed_us", BigInteger, nullable=True),
    Column("seed", JSON, nullable=False),  # a camera's device values from vigil.yaml as last applied
    Index("ix_equipment_kind", "kind"),
)

equipment_history = Table(
    "equipment_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("equipment_id", String(64), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),
    Column("change", String(24), nullable=False),  # EquipmentChange
    Column("revision", Integer, nullable=False),
    Column("detail", JSON, nullable=False),  # {"fields": {name: [old, new]}, ...}
    Index("ix_equipment_history_equipment", "equipment_id", "id"),
)

equipment_documents = Table(
    "equipment_documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("equipment_id", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),  # the file: documents/<sha256>
    Column("added_us", BigInteger, nullable=False),
    Column("added_by", Text, nullable=False),
    Column("removed_us", BigInteger, nullable=True),
    Column("removed_by", Text, nullable=True),
    Index("ix_equipment_documents_equipment", "equipment_id"),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("equipment_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # TicketKind
    Column("title", Text, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("state", String(16), nullable=False),  # TicketState
    Column("source", String(16), nullable=False),
    Column("source_ref", Text, nullable=False),
    Column("opened_us", BigInteger, nullable=False),
    Column("opened_by", Text, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("cameras", JSON, nullable=False),
    Column("first_seen_us", BigInteger, nullable=True),
    Column("last_seen_us", BigInteger, nullable=True),
    Column("fault_cleared_us", BigInteger, nullable=True),
    Column("respond_due_us", BigInteger, nullable=True),
    Column("restore_due_us", BigInteger, nullable=True),
    Column("responded_us", BigInteger, nullable=True),
    Column("acknowledged_by", Text, nullable=False),
    Column("assignee", String(64), nullable=False),
    Column("vendor", Text, nullable=False),
    Column("resolved_us", BigInteger, nullable=True),
    Column("resolved_by", Text, nullable=False),
    Column("verified_us", BigInteger, nullable=True),
    Column("verify_note", Text, nullable=False),
    Column("closed_us", BigInteger, nullable=True),
    Column("closed_by", Text, nullable=False),
    Column("work_done", JSON, nullable=False),
    Column("parts", JSON, nullable=False),
    Column("time_spent_min", Integer, nullable=False),
    Column("vendor_ref", Text, nullable=False),
    Column("good_picture", Text, nullable=False),
    Column("fault_picture", Text, nullable=False),
    Column("reopened", Integer, nullable=False),
    Column("overdue", JSON, nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_tickets_state", "state", "priority", "opened_us"),
    Index("ix_tickets_equipment", "equipment_id", "kind", "id"),
)

ticket_cameras = Table(
    "ticket_cameras",
    metadata,
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("camera_id", String(64), primary_key=True),
    Index("ix_ticket_cameras_camera", "camera_id"),
)

ticket_events = Table(
    "ticket_events",
    metadata,
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("event_id", Integer, primary_key=True),  # the fault (or offline) events of its episodes
    Index("ix_ticket_events_event", "event_id"),
)

ticket_history = Table(
    "ticket_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),
    Column("change", String(16), nullable=False),  # TicketChange
    Column("detail", JSON, nullable=False),
    Index("ix_ticket_history_ticket", "ticket_id", "id"),
)

# --- routine inspections (revision 0014) -------------------------------------------------------------------------
inspections = Table(
    "inspections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),  # maintenance.inspections[].name
    Column("camera_id", String(64), nullable=False),
    Column("due_us", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # due | done | dropped (the schedule no longer covers the camera)
    Column("done_us", BigInteger, nullable=True),
    Column("done_by", Text, nullable=False),
    Column("answers", JSON, nullable=False),  # [{"item": ..., "ok": true, "note": ...}]
    Column("picture", Text, nullable=False),  # the camera's picture when it was done (maintenance files)
    Column("ticket_id", Integer, nullable=True),  # the ticket it opened (overdue, or faults found)
    Index("ix_inspections_state", "state", "due_us"),
    Index("ix_inspections_camera", "camera_id", "name", "id"),
)

# --- picture quality samples (revision 0015) ---------------------------------------------------------------------
quality_samples = Table(
    "quality_samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("camera_id", String(64), nullable=False),
    Column("day", String(10), nullable=False),  # the site's local date, YYYY-MM-DD
    Column("period", String(8), nullable=False),  # day | night
    Column("at_us", BigInteger, nullable=False),  # the start of the hour measured
    Column("frames", Integer, nullable=False),
    Column("sharpness", Float, nullable=False),
    Column("contrast", Float, nullable=False),
    Column("brightness", Float, nullable=False),
    Column("noise", Float, nullable=False),
    Column("cast", Float, nullable=False),
    UniqueConstraint("camera_id", "day", "period", name="uq_quality_samples_day"),
    Index("ix_quality_samples_camera", "camera_id", "at_us"),
)
