"""The catalog: segments, gaps, events, the deletion ledger and stream health, in SQLite (WAL) or any
SQLAlchemy database. All writes go through one lock (one writer); reads run concurrently."""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import (
    CTE,
    BigInteger,
    Connection,
    Engine,
    FromClause,
    RowMapping,
    Select,
    column,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    or_,
    select,
    table,
    tuple_,
    union_all,
    update,
)
from sqlalchemy import text as text_
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.elements import ColumnElement

from vigil.domain.errors import NotFound, StorageError
from vigil.domain.records import (
    EventRecord,
    HealthRow,
    LedgerEntry,
    event_label,
    event_labels,
    event_score,
    ledger_entry_hash,
)
from vigil.domain.retention import StoredSegment
from vigil.domain.segment import Gap, GapCause, Segment, SegmentInfo
from vigil.storage import schema as t
from vigil.storage.migrate import upgrade_to_head

log = logging.getLogger(__name__)


def _segment(row: RowMapping) -> Segment:
    return Segment(
        id=row["id"],
        camera_id=row["camera_id"],
        stream=row["stream"],
        path=row["path"],
        start_us=row["start_us"],
        end_us=row["end_us"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        prev_sha256=row["prev_sha256"],
        codec=row["codec"],
        width=row["width"],
        height=row["height"],
        frame_count=row["frame_count"],
        recovered=bool(row["recovered"]),
        hot=bool(row.get("hot", True)),
        event_footage=None if row.get("event_footage") is None else bool(row["event_footage"]),
    )


def event_of(row: RowMapping) -> EventRecord:
    """An ``events`` row as the record the catalog hands back."""
    return EventRecord(**{**row, "labels": _labels_of(row["labels"])})


def _labels_of(column: str | None) -> tuple[str, ...]:
    return tuple(label for label in (column or "").split(",") if label)


def _labels_column(labels: Sequence[str]) -> str | None:
    """Labels as the ``labels`` column holds them: ``,car,person,`` (None when there are none)."""
    return "," + ",".join(labels) + "," if labels else None


def _like_literal(text: str) -> str:
    """``text`` with LIKE's wildcards escaped (use with ``escape="\\"``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


FULL_TEXT_CANDIDATES_PER_ROOT = 3.0
FULL_TEXT_MIN_CANDIDATES = 1000
"""When the full-text index finds more events than ``3 * sqrt(events)`` (at least 1,000) for a search, the event
list scans newest first with LIKE instead: matches that common are met soon enough by the scan, and reading them
all by id would cost more. Sorting n hits costs about n row reads; the scan reads about 100 / (n / events) rows for
a page of 100; they cost the same near n = sqrt(100 * events * scan cost / read cost), about 3 * sqrt(events) as
measured (bench/event_search.py; ADR 0007)."""
FULL_TEXT_SAMPLE = 100
"""The full-text index gives its hits by id; when the first 100 lie so close together that all of them would be
over the cap, the walk with LIKE is taken without reading the rest (FTS5 finds hits as they are read)."""
FULL_TEXT_MIN_CHARS = 3  # trigrams: shorter text cannot be looked up in the index
FULL_TEXT_MIN_SQLITE = (3, 35, 0)  # trigram tokenizer, MATERIALIZED common table expressions
ID_CHUNK = 500  # ids per IN (...) list
LONGEST_SEGMENT_US = 2 * 3600 * 1_000_000  # segments last at most recording.segment_duration_s (<= 1 h) and a GOP

_Columns = ReadOnlyColumnCollection[str, Any]
_Scope = Callable[[_Columns], list[ColumnElement[bool]]]
_events_fts = table(t.EVENTS_FTS, column("rowid", BigInteger), column(t.EVENTS_FTS))


def _fts_phrase(column_name: str, text: str) -> str:
    """An FTS5 query term: ``text`` as one phrase (with trigrams: the substring) in one column."""
    return f'{column_name} : "{text.replace(chr(34), chr(34) * 2)}"'


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


EventHook = Callable[[Connection, int, str], None]
"""Called inside the transaction that writes an event, with the event's id and what happened to it (``opened``,
``recorded`` or ``closed``): what it writes commits with the event or not at all (the notification outbox,
``vigil.storage.outbox.outbox_hook``)."""


class SqlCatalog:
    def __init__(self, url: str) -> None:
        self.url = url
        self.event_hook: EventHook | None = None
        self._write_lock = threading.Lock()
        try:
            upgrade_to_head(url)
            self._engine: Engine = create_engine(url, future=True)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot open the catalog {url}: {exc}") from exc
        if self._engine.dialect.name == "sqlite":
            event.listen(self._engine, "connect", _sqlite_pragmas)
        self._full_text = self._has_full_text_index()

    def _has_full_text_index(self) -> bool:
        """Whether the events' full-text index is there to use (SQLite with FTS5, migration 0005)."""
        if self._engine.dialect.name != "sqlite":
            return False
        with self._read() as conn:
            version = str(conn.exec_driver_sql("SELECT sqlite_version()").scalar_one())
            found = conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (t.EVENTS_FTS,)
            ).first()
        return found is not None and tuple(int(part) for part in version.split(".")[:3]) >= FULL_TEXT_MIN_SQLITE

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._write_lock:
            try:
                with self._engine.begin() as conn:
                    yield conn
            except SQLAlchemyError as exc:
                raise StorageError(f"catalog write failed: {exc}") from exc

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StorageError(f"catalog read failed: {exc}") from exc

    # --- segments -------------------------------------------------------------------------------
    def add_segment(self, info: SegmentInfo) -> Segment:
        """Catalogue a finished segment, linking it to the last segment of its stream."""
        with self._write() as conn:
            prev = conn.execute(
                select(t.segments.c.sha256)
                .where(t.segments.c.camera_id == info.camera_id, t.segments.c.stream == info.stream)
                .order_by(t.segments.c.id.desc())
                .limit(1)
            ).scalar()
            if prev is None:
                prev = conn.execute(
                    select(t.deletion_ledger.c.sha256)
                    .where(
                        t.deletion_ledger.c.camera_id == info.camera_id,
                        t.deletion_ledger.c.stream == info.stream,
                    )
                    .order_by(t.deletion_ledger.c.segment_id.desc())
                    .limit(1)
                ).scalar()
            values: dict[str, Any] = {
                "camera_id": info.camera_id,
                "stream": info.stream,
                "path": info.path,
                "start_us": info.start_us,
                "end_us": info.end_us,
                "size_bytes": info.size_bytes,
                "sha256": info.sha256,
                "prev_sha256": prev,
                "codec": info.codec,
                "width": info.width,
                "height": info.height,
                "frame_count": info.frame_count,
                "recovered": info.recovered,
                "state": "ok",
            }
            new_id = conn.execute(insert(t.segments).values(**values)).inserted_primary_key
            assert new_id is not None
            return Segment(id=int(new_id[0]), **{k: v for k, v in values.items() if k != "state"})

    def segments(
        self, camera_id: str, stream: str, start_us: int | None = None, end_us: int | None = None
    ) -> list[Segment]:
        """Segments of one stream overlapping ``[start_us, end_us)``, oldest first."""
        c = t.segments.c
        query = select(t.segments).where(c.camera_id == camera_id, c.stream == stream, c.state == "ok")
        if start_us is not None:
            query = query.where(c.end_us > start_us)
        if end_us is not None:
            query = query.where(c.start_us < end_us)
        with self._read() as conn:
            return [_segment(r) for r in conn.execute(query.order_by(c.start_us, c.id)).mappings()]

    def all_segments(self) -> list[Segment]:
        """Every live segment (not the ones being deleted), in catalogue order."""
        with self._read() as conn:
            rows = conn.execute(select(t.segments).where(t.segments.c.state == "ok").order_by(t.segments.c.id))
            return [_segment(r) for r in rows.mappings()]

    def deleting_segments(self) -> list[Segment]:
        """Rows whose deletion was started but not finished (a crash in between)."""
        with self._read() as conn:
            rows = conn.execute(select(t.segments).where(t.segments.c.state == "deleting").order_by(t.segments.c.id))
            return [_segment(r) for r in rows.mappings()]

    def segment(self, segment_id: int) -> Segment | None:
        with self._read() as conn:
            row = conn.execute(select(t.segments).where(t.segments.c.id == segment_id)).mappings().first()
            return _segment(row) if row else None

    def last_segment(self, camera_id: str, stream: str) -> Segment | None:
        c = t.segments.c
        with self._read() as conn:
            row = (
                conn.execute(
                    select(t.segments)
                    .where(c.camera_id == camera_id, c.stream == stream)
                    .order_by(c.end_us.desc(), c.id.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
            return _segment(row) if row else None

    def retention_view(self) -> list[StoredSegment]:
        c, k = t.segments.c, t.segment_copies.c
        copied = exists().where(k.segment_id == c.id, k.state == "verified")
        with self._read() as conn:
            rows = conn.execute(
                select(c.id, c.camera_id, c.start_us, c.end_us, c.size_bytes, c.hot, c.event_footage)
                .add_columns(copied.label("copied"))
                .where(c.state == "ok")
            ).all()
        return [
            StoredSegment(
                r.id,
                r.camera_id,
                r.start_us,
                r.end_us,
                r.size_bytes,
                hot=bool(r.hot),
                copied=bool(r.copied),
                event_footage=None if r.event_footage is None else bool(r.event_footage),
            )
            for r in rows
        ]

    def total_bytes(self) -> int:
        c = t.segments.c
        with self._read() as conn:
            query = select(func.coalesce(func.sum(c.size_bytes), 0)).where(c.hot.is_(True))
            return int(conn.execute(query).scalar_one())

    def bytes_per_second(self, since_us: int) -> dict[str, float]:
        """Measured recording rate per camera over segments that ended after ``since_us``."""
        c = t.segments.c
        with self._read() as conn:
            rows = conn.execute(
                select(c.camera_id, func.sum(c.size_bytes), func.sum(c.end_us - c.start_us))
                .where(c.end_us > since_us)
                .group_by(c.camera_id)
            ).all()
        return {r[0]: (r[1] * 1e6 / r[2]) if r[2] else 0.0 for r in rows}

    def mark_deleting(self, segment_id: int) -> bool:
        """Mark a segment for deletion unless an active legal hold overlaps it (checked in the same transaction,
        so a hold placed after retention planned still wins); False when it is held and left alone."""
        s, h = t.segments.c, t.legal_holds.c
        held = exists().where(
            h.lifted_us.is_(None), h.camera_id == s.camera_id, h.start_us < s.end_us, h.end_us > s.start_us
        )
        with self._write() as conn:
            done = conn.execute(update(t.segments).where(s.id == segment_id, ~held).values(state="deleting"))
            return bool(done.rowcount)

    def remove_segment(
        self, seg: Segment, now_us: int, rule: str, actor: str, reason: str, tiers: Sequence[str] = ("hot",)
    ) -> LedgerEntry:
        """Write the ledger entry and drop the row, in one transaction (call after the file, and every copy on a
        tier, is deleted: ``tiers`` names where it was)."""
        with self._write() as conn:
            prev = conn.execute(
                select(t.deletion_ledger.c.entry_sha256).order_by(t.deletion_ledger.c.id.desc()).limit(1)
            ).scalar()
            fields: dict[str, Any] = {
                "deleted_us": now_us,
                "segment_id": seg.id,
                "camera_id": seg.camera_id,
                "stream": seg.stream,
                "path": seg.path,
                "start_us": seg.start_us,
                "end_us": seg.end_us,
                "size_bytes": seg.size_bytes,
                "sha256": seg.sha256,
                "rule": rule,
                "actor": actor,
                "reason": reason,
            }
            where = ",".join(tiers) or "hot"
            hashed = fields | ({} if where == "hot" else {"tiers": where})
            entry = ledger_entry_hash(prev, hashed)
            new_id = conn.execute(
                insert(t.deletion_ledger).values(**fields, tiers=where, prev_entry_sha256=prev, entry_sha256=entry)
            ).inserted_primary_key
            conn.execute(delete(t.segments).where(t.segments.c.id == seg.id))
            assert new_id is not None
            return LedgerEntry(id=int(new_id[0]), prev_entry_sha256=prev, entry_sha256=entry, tiers=where, **fields)

    def ledger(self, limit: int | None = None) -> list[LedgerEntry]:
        query = select(t.deletion_ledger).order_by(t.deletion_ledger.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as conn:
            return [LedgerEntry(**dict(r)) for r in conn.execute(query).mappings()]

    def ledger_between(self, start_us: int, end_us: int) -> list[LedgerEntry]:
        """Ledger entries of deletions made in ``[start_us, end_us)``, in the ledger's order."""
        c = t.deletion_ledger.c
        query = select(t.deletion_ledger).where(c.deleted_us >= start_us, c.deleted_us < end_us).order_by(c.id)
        with self._read() as conn:
            return [LedgerEntry(**dict(r)) for r in conn.execute(query).mappings()]

    def deletions(self, camera_id: str, stream: str, start_us: int, end_us: int) -> list[LedgerEntry]:
        """Ledger entries of one stream's deleted segments that overlapped ``[start_us, end_us)``, oldest first."""
        c = t.deletion_ledger.c
        query = (
            select(t.deletion_ledger)
            .where(c.camera_id == camera_id, c.stream == stream, c.start_us < end_us, c.end_us > start_us)
            .where(c.start_us > start_us - LONGEST_SEGMENT_US)  # a bounded range of ix_ledger_stream_time
            .order_by(c.start_us, c.id)
        )
        with self._read() as conn:
            return [LedgerEntry(**dict(r)) for r in conn.execute(query).mappings()]

    def ledger_hashes(self) -> set[str]:
        with self._read() as conn:
            return set(conn.execute(select(t.deletion_ledger.c.sha256)).scalars())

    # --- gaps ------------------------------------------------------------------------------------
    def open_gap(self, camera_id: str, stream: str, start_us: int, cause: GapCause, detail: str = "") -> None:
        """Open a gap unless one is already open for the stream (then keep the earlier one)."""
        c = t.gaps.c
        with self._write() as conn:
            existing = conn.execute(
                select(c.id).where(c.camera_id == camera_id, c.stream == stream, c.end_us.is_(None))
            ).first()
            if existing is None:
                conn.execute(
                    insert(t.gaps).values(
                        camera_id=camera_id,
                        stream=stream,
                        start_us=start_us,
                        end_us=None,
                        cause=str(cause),
                        detail=detail,
                    )
                )

    def open_gap_of(self, camera_id: str, stream: str) -> Gap | None:
        c = t.gaps.c
        with self._read() as conn:
            r = (
                conn.execute(select(t.gaps).where(c.camera_id == camera_id, c.stream == stream, c.end_us.is_(None)))
                .mappings()
                .first()
            )
        return None if r is None else Gap(camera_id, stream, r["start_us"], None, GapCause(r["cause"]), r["detail"])

    def close_gap(self, camera_id: str, stream: str, end_us: int) -> Gap | None:
        c = t.gaps.c
        with self._write() as conn:
            row = (
                conn.execute(select(t.gaps).where(c.camera_id == camera_id, c.stream == stream, c.end_us.is_(None)))
                .mappings()
                .first()
            )
            if row is None:
                return None
            end = max(end_us, row["start_us"])
            conn.execute(update(t.gaps).where(c.id == row["id"]).values(end_us=end))
            return Gap(camera_id, stream, row["start_us"], end, GapCause(row["cause"]), row["detail"])

    def gaps(self, camera_id: str, stream: str, start_us: int, end_us: int) -> list[Gap]:
        c = t.gaps.c
        query = (
            select(t.gaps)
            .where(
                c.camera_id == camera_id,
                c.stream == stream,
                c.start_us < end_us,
                (c.end_us.is_(None)) | (c.end_us > start_us),
            )
            .order_by(c.start_us)
        )
        with self._read() as conn:
            return [
                Gap(r["camera_id"], r["stream"], r["start_us"], r["end_us"], GapCause(r["cause"]), r["detail"])
                for r in conn.execute(query).mappings()
            ]

    # --- events ----------------------------------------------------------------------------------
    def add_event(
        self,
        type_: str,
        start_us: int,
        description: str,
        *,
        camera_id: str | None = None,
        stream: str | None = None,
        end_us: int | None = None,
        data: dict[str, Any] | None = None,
        zone: str | None = None,
        labels: Sequence[str] = (),
        score: float | None = None,
    ) -> int:
        """Record an event (open while ``end_us`` is None). ``zone`` is the zone or line it happened in,
        ``labels`` the object labels involved (kept lower-case, without repeats), ``score`` the best detection
        score so far. Raises InvalidRequest for an empty label, one with a comma, or a score that is no number."""
        label_column = _labels_column(event_labels(labels))
        score = event_score(score)
        with self._write() as conn:
            new_id = conn.execute(
                insert(t.events).values(
                    type=type_,
                    camera_id=camera_id,
                    stream=stream,
                    start_us=start_us,
                    end_us=end_us,
                    description=description,
                    data=data or {},
                    zone=zone or None,
                    labels=label_column,
                    score=score,
                )
            ).inserted_primary_key
            assert new_id is not None
            if self.event_hook is not None:
                self.event_hook(conn, int(new_id[0]), "opened" if end_us is None else "recorded")
            return int(new_id[0])

    def end_event(
        self,
        event_id: int,
        end_us: int,
        description: str | None = None,
        *,
        labels: Sequence[str] | None = None,
        score: float | None = None,
    ) -> None:
        """Close an event. ``description`` replaces its description when given; ``labels`` are added to the
        ones it has (their union is kept) and ``score`` replaces its best score when higher."""
        values: dict[str, Any] = {"end_us": end_us}
        if description:
            values["description"] = description
        more_labels = event_labels(labels or ())
        score = event_score(score)
        c = t.events.c
        with self._write() as conn:
            if more_labels or score is not None:
                row = conn.execute(select(c.labels, c.score).where(c.id == event_id)).first()
                if row is not None:
                    values["labels"] = _labels_column(event_labels([*_labels_of(row.labels), *more_labels]))
                    values["score"] = max((v for v in (row.score, score) if v is not None), default=None)
            conn.execute(update(t.events).where(c.id == event_id).values(**values))
            if self.event_hook is not None:
                self.event_hook(conn, event_id, "closed")

    def open_event(self, type_: str, camera_id: str | None = None) -> EventRecord | None:
        c = t.events.c
        query = select(t.events).where(c.type == type_, c.end_us.is_(None))
        query = query.where(c.camera_id.is_(None) if camera_id is None else c.camera_id == camera_id)
        with self._read() as conn:
            row = conn.execute(query.order_by(c.id.desc()).limit(1)).mappings().first()
            return event_of(row) if row else None

    def open_events(self, types: Sequence[str]) -> list[EventRecord]:
        """Every event of these types that has not ended, oldest first."""
        c = t.events.c
        query = select(t.events).where(c.type.in_(list(types)), c.end_us.is_(None)).order_by(c.id)
        with self._read() as conn:
            return [event_of(row) for row in conn.execute(query).mappings()]

    def events(
        self,
        camera_id: str | None = None,
        types: Sequence[str] | None = None,
        start_us: int | None = None,
        end_us: int | None = None,
        limit: int = 100,
        offset: int = 0,
        text: str | None = None,
        label: str | None = None,
        zone: str | None = None,
        *,
        camera_ids: Sequence[str] | None = None,
        include_node_events: bool = True,
        before: tuple[int, int] | None = None,
        unreviewed_by: str | None = None,
    ) -> list[EventRecord]:
        """Events newest first (by ``start_us``, then ``id``), filtered by camera, types, a time range they overlap,
        words in the description (``text``, case aside), one object label among theirs (exact, case aside) and their
        zone (exact).

        ``camera_ids`` keeps the events of these cameras only (an empty sequence: no events at all, whatever
        ``include_node_events`` says); ``include_node_events`` keeps or drops the events of no camera (the node's
        own, like ``detector:down``); ``camera_id`` narrows further to one camera. ``before`` is a cursor
        ``(start_us, id)``: only events strictly after it in this order (older), so passing the last event of a page
        gives the next page, without reading the pages before it as ``offset`` does. ``unreviewed_by`` keeps the
        events that user has not marked reviewed. Raises InvalidRequest for an empty label or one with a comma.

        How it reads (ADR 0007): each part below is read newest first along an index and cut at ``offset + limit``,
        and the parts are merged. A search the full-text index narrows to a few events reads just those. Otherwise
        a time range splits the events into those that started from an hour before it on (a bounded range of an
        index) and the long or open ones that started earlier (``ix_events_long``); a set of cameras with the
        node's events splits into the cameras' and the node's (two ranges of ``ix_events_camera_time``)."""
        wanted = event_label(label) if label is not None else None
        if camera_ids is not None and not camera_ids:
            return []
        cameras = sorted(set(camera_ids)) if camera_ids is not None else None

        def common(c: _Columns) -> list[ColumnElement[bool]]:
            conds: list[ColumnElement[bool]] = []
            if text:
                conds.append(c.description.ilike("%" + _like_literal(text) + "%", escape="\\"))
            if wanted is not None:
                conds.append(c.labels.like("%," + _like_literal(wanted) + ",%", escape="\\"))
            if zone is not None:
                conds.append(c.zone == zone)
            if camera_id is not None:
                conds.append(c.camera_id == camera_id)
            if types:
                conds.append(c.type.in_(list(types)))
            if start_us is not None:
                conds.append((c.end_us.is_(None)) | (c.end_us >= start_us))
            if end_us is not None:
                conds.append(c.start_us < end_us)
            if before is not None:
                conds.append(tuple_(c.start_us, c.id) < tuple_(*before))
            if unreviewed_by is not None:
                r = t.event_reviews.c
                conds.append(~exists().where(r.event_id == c.id, r.username == unreviewed_by))
            if cameras is None and not include_node_events:
                conds.append(c.camera_id.is_not(None))
            return conds

        def all_of(c: _Columns) -> list[ColumnElement[bool]]:
            return []

        def these_cameras(c: _Columns) -> list[ColumnElement[bool]]:
            assert cameras is not None
            scope: ColumnElement[bool] = c.camera_id.in_(cameras)
            return [or_(scope, c.camera_id.is_(None)) if include_node_events else scope]

        def only(c: _Columns) -> list[ColumnElement[bool]]:
            assert cameras is not None
            return [c.camera_id.in_(cameras)]

        def node(c: _Columns) -> list[ColumnElement[bool]]:
            return [c.camera_id.is_(None)]

        with self._read() as conn:
            hits = self._full_text_hits(conn, text, wanted)
            if hits is not None and not hits:
                return []
            e = t.events.c
            sources: list[tuple[FromClause, _Scope]]
            scopes: list[_Scope] = [all_of] if cameras is None else [these_cameras]
            if hits is not None:  # a few thousand at most: filter and sort just these rows (MATERIALIZED, or
                # SQLite may walk an index of the whole table and test each row against them)
                sources = [(_materialized(select(t.events).where(e.id.in_(hits)), "hits"), all_of)]
            elif start_us is not None:
                since = start_us - t.LONG_EVENT_US
                long_ago = select(t.events).where(  # (the condition of ix_events_long, word for word)
                    text_(f"({t.LONG_EVENT})"), e.start_us < since, (e.end_us.is_(None)) | (e.end_us >= start_us)
                )

                def recent(c: _Columns) -> list[ColumnElement[bool]]:
                    return [c.start_us >= since]

                sources = [(t.events, recent), (_materialized(long_ago, "long_ago"), all_of)]
            else:
                sources = [(t.events, all_of)]
            if cameras is not None and include_node_events and camera_id is None and hits is None:
                scopes = [only, node]  # an OR would make SQLite read every event of the cameras to sort them
            parts = [
                select(source).where(*common(source.c), *narrow(source.c), *scope(source.c))
                for source, narrow in sources
                for scope in scopes
            ]
            if len(parts) == 1:
                query = _newest_first(parts[0], limit, offset)
            else:
                pages = [_newest_first(part, limit + offset, 0).subquery() for part in parts]
                query = _newest_first(select(union_all(*(select(page) for page in pages)).subquery()), limit, offset)
            return [event_of(r) for r in conn.execute(query).mappings()]

    def _full_text_hits(self, conn: Connection, text: str | None, label: str | None) -> list[int] | None:
        """The ids of the events the full-text index finds for ``text`` in the description and ``label`` among the
        labels: a superset of what LIKE matches (the caller applies LIKE to them too). None to search with LIKE
        alone: no index (not SQLite, or no FTS5), nothing it can look up (text under three characters and no label),
        or too many events found to read them all (:meth:`_full_text_cap`)."""
        if not self._full_text:
            return None
        terms = []
        if text and len(text) >= FULL_TEXT_MIN_CHARS:
            terms.append(_fts_phrase("description", text))
        if label is not None:
            terms.append(_fts_phrase("labels", f",{label},"))
        if not terms:
            return None
        oldest, newest = self._event_id_range(conn)
        events = newest - oldest + 1  # about how many there are
        most = self._full_text_cap(events)
        probe = select(_events_fts.c.rowid).where(_events_fts.c[t.EVENTS_FTS].match(" AND ".join(terms)))
        try:
            result = conn.execute(probe.limit(most + 1))  # by id (ascending is FTS5's quicker way)
            try:
                found = result.scalars()
                ids: list[int] = list(islice(found, FULL_TEXT_SAMPLE))
                if len(ids) == FULL_TEXT_SAMPLE and len(ids) * events / (ids[-1] - ids[0] + 1) > most:
                    return None  # the first hits lie so close together that there are too many to read them all
                ids += found
            finally:
                result.close()
        except SQLAlchemyError:
            log.warning("the events' full-text index failed; searching with LIKE", exc_info=True)
            return None
        return ids if len(ids) <= most else None

    def _event_id_range(self, conn: Connection) -> tuple[int, int]:
        """The lowest and highest event ids (each read at once from an end of the table)."""
        oldest = conn.execute(select(func.min(t.events.c.id))).scalar()
        newest = conn.execute(select(func.max(t.events.c.id))).scalar()
        return int(oldest or 0), int(newest or 0)

    def _full_text_cap(self, events: int) -> int:
        """How many full-text hits are few enough to read them all (:data:`FULL_TEXT_CANDIDATES_PER_ROOT`)."""
        return max(FULL_TEXT_MIN_CANDIDATES, int(FULL_TEXT_CANDIDATES_PER_ROOT * math.sqrt(events)))

    def event(self, event_id: int) -> EventRecord | None:
        with self._read() as conn:
            row = conn.execute(select(t.events).where(t.events.c.id == event_id)).mappings().first()
            return event_of(row) if row else None

    # --- review marks ---------------------------------------------------------------------------
    def mark_reviewed(self, event_id: int, username: str, at_us: int) -> bool:
        """Mark the event reviewed by ``username``; True when the mark is new. Marking again changes nothing (the
        first mark and its time stay). Raises NotFound when there is no such event."""
        r = t.event_reviews.c
        with self._write() as conn:
            if conn.execute(select(t.events.c.id).where(t.events.c.id == event_id)).first() is None:
                raise NotFound(f"no event with id {event_id}")
            if conn.execute(select(r.event_id).where(r.event_id == event_id, r.username == username)).first():
                return False
            conn.execute(insert(t.event_reviews).values(event_id=event_id, username=username, at_us=at_us))
            return True

    def unmark_reviewed(self, event_id: int, username: str) -> bool:
        """Take back the user's review mark on the event; True when there was one."""
        r = t.event_reviews.c
        with self._write() as conn:
            gone = conn.execute(delete(t.event_reviews).where(r.event_id == event_id, r.username == username))
            return bool(gone.rowcount)

    def reviewed_ids(self, event_ids: Sequence[int], username: str) -> set[int]:
        """Which of these events the user has marked reviewed."""
        r = t.event_reviews.c
        wanted = sorted(set(event_ids))
        found: set[int] = set()
        with self._read() as conn:
            for at in range(0, len(wanted), ID_CHUNK):
                chunk = wanted[at : at + ID_CHUNK]
                found.update(
                    conn.execute(select(r.event_id).where(r.username == username, r.event_id.in_(chunk))).scalars()
                )
        return found

    # --- health ----------------------------------------------------------------------------------
    def upsert_health(self, row: HealthRow) -> None:
        values = {k: getattr(row, k) for k in HealthRow.__slots__}
        c = t.stream_health.c
        with self._write() as conn:
            done = conn.execute(
                update(t.stream_health).where(c.camera_id == row.camera_id, c.stream == row.stream).values(**values)
            ).rowcount
            if not done:
                conn.execute(insert(t.stream_health).values(**values))

    def health(self) -> list[HealthRow]:
        with self._read() as conn:
            rows = conn.execute(select(t.stream_health).order_by(t.stream_health.c.camera_id)).mappings()
            return [HealthRow(**dict(r)) for r in rows]


def _materialized(query: Select[Any], name: str) -> CTE:
    """``query`` as a common table expression SQLite computes first, whatever indexes the outer query could use
    (PostgreSQL plans it on its own)."""
    return query.cte(name).prefix_with("MATERIALIZED", dialect="sqlite")


def _newest_first(query: Select[Any], limit: int, offset: int) -> Select[Any]:
    """``query`` ordered newest first (``start_us``, then ``id``, both descending) and cut to one page."""
    c = query.selected_columns
    return query.order_by(c.start_us.desc(), c.id.desc()).limit(limit).offset(offset)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()
