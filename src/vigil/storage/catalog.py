"""The catalog: segments, gaps, events, the deletion ledger and stream health, in SQLite (WAL) or any
SQLAlchemy database. All writes go through one lock (one writer); reads run concurrently."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    RowMapping,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from vigil.domain.errors import StorageError
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
    )


def _event(row: RowMapping) -> EventRecord:
    return EventRecord(**{**row, "labels": _labels_of(row["labels"])})


def _labels_of(column: str | None) -> tuple[str, ...]:
    return tuple(label for label in (column or "").split(",") if label)


def _labels_column(labels: Sequence[str]) -> str | None:
    """Labels as the ``labels`` column holds them: ``,car,person,`` (None when there are none)."""
    return "," + ",".join(labels) + "," if labels else None


def _like_literal(text: str) -> str:
    """``text`` with LIKE's wildcards escaped (use with ``escape="\\"``)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class SqlCatalog:
    def __init__(self, url: str) -> None:
        self.url = url
        self._write_lock = threading.Lock()
        try:
            upgrade_to_head(url)
            self._engine: Engine = create_engine(url, future=True)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot open the catalog {url}: {exc}") from exc
        if self._engine.dialect.name == "sqlite":
            event.listen(self._engine, "connect", _sqlite_pragmas)

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
        c = t.segments.c
        with self._read() as conn:
            rows = conn.execute(
                select(c.id, c.camera_id, c.start_us, c.end_us, c.size_bytes).where(c.state == "ok")
            ).all()
        return [StoredSegment(r.id, r.camera_id, r.start_us, r.end_us, r.size_bytes) for r in rows]

    def total_bytes(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.coalesce(func.sum(t.segments.c.size_bytes), 0))).scalar_one())

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

    def mark_deleting(self, segment_id: int) -> None:
        with self._write() as conn:
            conn.execute(update(t.segments).where(t.segments.c.id == segment_id).values(state="deleting"))

    def remove_segment(self, seg: Segment, now_us: int, rule: str, actor: str, reason: str) -> LedgerEntry:
        """Write the ledger entry and drop the row, in one transaction (call after the file is unlinked)."""
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
            entry = ledger_entry_hash(prev, fields)
            new_id = conn.execute(
                insert(t.deletion_ledger).values(**fields, prev_entry_sha256=prev, entry_sha256=entry)
            ).inserted_primary_key
            conn.execute(delete(t.segments).where(t.segments.c.id == seg.id))
            assert new_id is not None
            return LedgerEntry(id=int(new_id[0]), prev_entry_sha256=prev, entry_sha256=entry, **fields)

    def ledger(self, limit: int | None = None) -> list[LedgerEntry]:
        query = select(t.deletion_ledger).order_by(t.deletion_ledger.c.id)
        if limit is not None:
            query = query.limit(limit)
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

    def open_event(self, type_: str, camera_id: str | None = None) -> EventRecord | None:
        c = t.events.c
        query = select(t.events).where(c.type == type_, c.end_us.is_(None))
        query = query.where(c.camera_id.is_(None) if camera_id is None else c.camera_id == camera_id)
        with self._read() as conn:
            row = conn.execute(query.order_by(c.id.desc()).limit(1)).mappings().first()
            return _event(row) if row else None

    def open_events(self, types: Sequence[str]) -> list[EventRecord]:
        """Every event of these types that has not ended, oldest first."""
        c = t.events.c
        query = select(t.events).where(c.type.in_(list(types)), c.end_us.is_(None)).order_by(c.id)
        with self._read() as conn:
            return [_event(row) for row in conn.execute(query).mappings()]

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
    ) -> list[EventRecord]:
        """Events newest first, filtered by camera, types, a time range they overlap, words in the
        description (``text``), one object label among theirs (exact, case aside) and their zone (exact).
        Raises InvalidRequest for an empty label or one with a comma."""
        c = t.events.c
        conds: list[ColumnElement[bool]] = []
        if text:
            conds.append(c.description.ilike("%" + _like_literal(text) + "%", escape="\\"))
        if label is not None:
            conds.append(c.labels.like("%," + _like_literal(event_label(label)) + ",%", escape="\\"))
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
        query = select(t.events).where(*conds).order_by(c.start_us.desc(), c.id.desc())
        with self._read() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).mappings()
            return [_event(r) for r in rows]

    def event(self, event_id: int) -> EventRecord | None:
        with self._read() as conn:
            row = conn.execute(select(t.events).where(t.events.c.id == event_id)).mappings().first()
            return _event(row) if row else None

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


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()
