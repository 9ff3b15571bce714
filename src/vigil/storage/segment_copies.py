"""Copies of segments on the storage tiers, in the catalog's database (``segment_copies`` and ``segments.hot`` of
migration 0016): ``SqlSegmentCopies`` is the :class:`vigil.ports.SegmentCopyStore`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import RowMapping, and_, case, exists, func, insert, or_, select, update

from vigil.domain.errors import NotFound
from vigil.domain.segment import Segment
from vigil.domain.tiers import CopyState, SegmentCopy
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog, _segment

_c = t.segment_copies.c
_s = t.segments.c
CHUNK = 500


def _copy(row: RowMapping) -> SegmentCopy:
    return SegmentCopy(
        id=row["id"],
        segment_id=row["segment_id"],
        tier=row["tier"],
        key=row["key"],
        state=CopyState(row["state"]),
        size_bytes=row["size_bytes"],
        started_us=row["started_us"],
        verified_us=row["verified_us"],
        checked_us=row["checked_us"],
        note=row["note"],
    )


def _verified_on(tier: str) -> Any:
    return exists().where(_c.segment_id == _s.id, _c.tier == tier, _c.state == CopyState.VERIFIED.value)


class SqlSegmentCopies:
    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog

    # --- the mover -------------------------------------------------------------------------------------------------
    def start(self, segment_id: int, tier: str, key: str, now_us: int) -> SegmentCopy:
        """The segment's copy on ``tier``, (again) in state copying."""
        with self._catalog._write() as conn:
            if conn.execute(select(_s.id).where(_s.id == segment_id)).first() is None:
                raise NotFound(f"no segment with id {segment_id}")
            found = conn.execute(select(_c.id).where(_c.segment_id == segment_id, _c.tier == tier)).first()
            values = {"state": CopyState.COPYING.value, "key": key, "started_us": now_us, "note": ""}
            if found is None:
                new = conn.execute(
                    insert(t.segment_copies).values(segment_id=segment_id, tier=tier, size_bytes=0, **values)
                ).inserted_primary_key
                assert new is not None
                copy_id = int(new[0])
            else:
                copy_id = int(found.id)
                conn.execute(update(t.segment_copies).where(_c.id == copy_id).values(**values))
            row = conn.execute(select(t.segment_copies).where(_c.id == copy_id)).mappings().one()
            return _copy(row)

    def verified(self, copy_id: int, size_bytes: int, now_us: int) -> None:
        values = {"state": CopyState.VERIFIED.value, "size_bytes": size_bytes, "verified_us": now_us, "note": ""}
        with self._catalog._write() as conn:
            conn.execute(update(t.segment_copies).where(_c.id == copy_id).values(checked_us=now_us, **values))

    def mark(self, copy_id: int, state: CopyState, now_us: int, note: str = "") -> None:
        with self._catalog._write() as conn:
            conn.execute(
                update(t.segment_copies).where(_c.id == copy_id).values(state=state.value, checked_us=now_us, note=note)
            )

    def checked(self, copy_id: int, now_us: int) -> None:
        with self._catalog._write() as conn:
            conn.execute(update(t.segment_copies).where(_c.id == copy_id).values(checked_us=now_us))

    def uncopied(
        self,
        tier: str,
        cameras: Sequence[str] | None,
        ended_before_us: int,
        limit: int,
        after_id: int = 0,
        footage: str = "all",
    ) -> list[Segment]:
        """Hot segments that ended before ``ended_before_us`` with no verified copy on ``tier``, by id after
        ``after_id`` (oldest first); ``footage`` events or continuous leaves out those known to be the other kind."""
        query = select(t.segments).where(
            _s.hot.is_(True),
            _s.state == "ok",
            _s.end_us <= ended_before_us,
            _s.id > after_id,
            ~_verified_on(tier),
        )
        if footage != "all":
            query = query.where(or_(_s.event_footage.is_(None), _s.event_footage.is_(footage == "events")))
        if cameras is not None:
            query = query.where(_s.camera_id.in_(list(cameras)))
        with self._catalog._read() as conn:
            return [_segment(r) for r in conn.execute(query.order_by(_s.id).limit(limit)).mappings()]

    def releasable(self, limit: int, after_id: int = 0) -> list[tuple[Segment, set[str]]]:
        """Hot segments with at least one verified copy, and the tiers holding one."""
        verified = exists().where(_c.segment_id == _s.id, _c.state == CopyState.VERIFIED.value)
        query = select(t.segments).where(_s.hot.is_(True), _s.state == "ok", _s.id > after_id, verified)
        with self._catalog._read() as conn:
            segments = [_segment(r) for r in conn.execute(query.order_by(_s.id).limit(limit)).mappings()]
            tiers = self._verified_tiers(conn, [s.id for s in segments])
        return [(s, tiers.get(s.id, set())) for s in segments]

    def release(self, segment_id: int) -> bool:
        """The segment leaves the hot disk (the catalog first; the caller unlinks the file after): only when a
        verified copy exists and it is still hot."""
        verified = exists().where(_c.segment_id == _s.id, _c.state == CopyState.VERIFIED.value)
        with self._catalog._write() as conn:
            still_hot = and_(_s.id == segment_id, _s.hot.is_(True), _s.state == "ok", verified)
            done = conn.execute(update(t.segments).where(still_hot).values(hot=False))
            return bool(done.rowcount)

    def released_among(self, paths: Iterable[str]) -> list[Segment]:
        """Of these hot-disk paths, the segments the catalog says are released."""
        wanted = list(paths)
        out: list[Segment] = []
        with self._catalog._read() as conn:
            for i in range(0, len(wanted), CHUNK):
                query = select(t.segments).where(_s.path.in_(wanted[i : i + CHUNK]), _s.hot.is_(False))
                out += [_segment(r) for r in conn.execute(query).mappings()]
        return out

    def classify(self, segment_id: int, event_footage: bool) -> None:
        """Record whether the segment holds event footage (lifecycle rules by kind read it)."""
        with self._catalog._write() as conn:
            conn.execute(update(t.segments).where(_s.id == segment_id).values(event_footage=event_footage))

    def unclassified(self, ended_before_us: int, limit: int) -> list[Segment]:
        """Segments whose kind is not yet recorded, ended before ``ended_before_us``, oldest first."""
        query = select(t.segments).where(_s.event_footage.is_(None), _s.state == "ok", _s.end_us <= ended_before_us)
        with self._catalog._read() as conn:
            return [_segment(r) for r in conn.execute(query.order_by(_s.id).limit(limit)).mappings()]

    # --- readers, status, scrub -----------------------------------------------------------------------------------
    def copies(self, segment_id: int) -> list[SegmentCopy]:
        with self._catalog._read() as conn:
            rows = conn.execute(select(t.segment_copies).where(_c.segment_id == segment_id).order_by(_c.id)).mappings()
            return [_copy(r) for r in rows]

    def hot_least_checked(self, stale_before_us: int, limit: int) -> list[Segment]:
        """Hot segments not read back whole since ``stale_before_us``, the longest ago first (one never read back
        counts from its end, when its hash was taken as it was written)."""
        last = func.coalesce(_s.checked_us, _s.end_us)
        query = select(t.segments).where(_s.hot.is_(True), _s.state == "ok", last < stale_before_us)
        with self._catalog._read() as conn:
            return [_segment(r) for r in conn.execute(query.order_by(last, _s.id).limit(limit)).mappings()]

    def hot_segments(self) -> list[Segment]:
        """Every segment still on the hot disk (the catalog's own list; whether its file is there is not looked at)."""
        query = select(t.segments).where(_s.hot.is_(True), _s.state == "ok").order_by(_s.id)
        with self._catalog._read() as conn:
            return [_segment(r) for r in conn.execute(query).mappings()]

    def hot_checked(self, segment_id: int, now_us: int) -> None:
        with self._catalog._write() as conn:
            conn.execute(update(t.segments).where(_s.id == segment_id).values(checked_us=now_us))

    def copies_least_checked(
        self, stale_before_us: int, retry_before_us: int, limit: int
    ) -> list[tuple[SegmentCopy, Segment]]:
        """Copies to read back: the damaged ones not tried since ``retry_before_us`` first (to heal them), then
        verified ones not read back whole since ``stale_before_us``, the longest ago first."""
        damaged = and_(
            _c.state == CopyState.DAMAGED.value, or_(_c.checked_us.is_(None), _c.checked_us < retry_before_us)
        )
        stale = and_(
            _c.state == CopyState.VERIFIED.value, func.coalesce(_c.checked_us, _c.started_us) < stale_before_us
        )
        query = (
            select(t.segment_copies)
            .select_from(t.segment_copies.join(t.segments, _s.id == _c.segment_id))
            .where(_s.state == "ok", or_(damaged, stale))
            .order_by(~damaged, func.coalesce(_c.checked_us, _c.started_us), _c.id)
            .limit(limit)
        )
        with self._catalog._read() as conn:
            copies = [_copy(r) for r in conn.execute(query).mappings()]
            ids = sorted({c.segment_id for c in copies})
            rows = conn.execute(select(t.segments).where(_s.id.in_(ids or [0]))).mappings()
            segments = {s.id: s for s in (_segment(r) for r in rows)}
        return [(c, segments[c.segment_id]) for c in copies]

    def _verified_tiers(self, conn: Any, ids: Sequence[int]) -> dict[int, set[str]]:
        out: dict[int, set[str]] = {}
        for i in range(0, len(ids), CHUNK):
            rows = conn.execute(
                select(_c.segment_id, _c.tier).where(
                    _c.segment_id.in_(ids[i : i + CHUNK]), _c.state == CopyState.VERIFIED.value
                )
            ).all()
            for row in rows:
                out.setdefault(row.segment_id, set()).add(row.tier)
        return out

    def forget(self, segment_id: int) -> None:
        """The segment's copies are gone with it (after each was deleted from its tier)."""
        with self._catalog._write() as conn:
            conn.execute(t.segment_copies.delete().where(_c.segment_id == segment_id))

    def usage(self) -> dict[str, tuple[int, int, int | None]]:
        """Per tier (``hot`` for the local disk): segments, bytes and the oldest footage's start."""
        with self._catalog._read() as conn:
            hot = conn.execute(
                select(func.count(), func.coalesce(func.sum(_s.size_bytes), 0), func.min(_s.start_us)).where(
                    _s.hot.is_(True), _s.state == "ok"
                )
            ).one()
            out: dict[str, tuple[int, int, int | None]] = {"hot": (int(hot[0]), int(hot[1]), hot[2])}
            rows = conn.execute(
                select(_c.tier, func.count(), func.coalesce(func.sum(_c.size_bytes), 0), func.min(_s.start_us))
                .select_from(t.segment_copies.join(t.segments, and_(_s.id == _c.segment_id)))
                .where(_c.state == CopyState.VERIFIED.value)
                .group_by(_c.tier)
            ).all()
        for row in rows:
            out[row[0]] = (int(row[1]), int(row[2]), row[3])
        return out

    def scrub_view(self) -> dict[str, tuple[int, int | None]]:
        """Per tier (``hot`` for the local disk): copies found damaged and not healed, and the oldest time an object
        was last read back whole (a file never read back counts from when its hash was taken)."""
        with self._catalog._read() as conn:
            hot = conn.execute(
                select(func.min(func.coalesce(_s.checked_us, _s.end_us))).where(_s.hot.is_(True), _s.state == "ok")
            ).scalar()
            out: dict[str, tuple[int, int | None]] = {"hot": (0, hot)}
            rows = conn.execute(
                select(
                    _c.tier,
                    func.sum(case((_c.state == CopyState.DAMAGED.value, 1), else_=0)),
                    func.min(case((_c.state == CopyState.VERIFIED.value, func.coalesce(_c.checked_us, _c.started_us)))),
                ).group_by(_c.tier)
            ).all()
        for row in rows:
            out[row[0]] = (int(row[1] or 0), row[2])
        return out

    def lag_us(self, tier: str, cameras: Sequence[str], now_us: int, footage: str = "all") -> int:
        """How far the copy to ``tier`` of these cameras runs behind: now minus the end of their oldest hot segment
        (of that kind) without a verified copy there (0 when every one has one)."""
        query = select(func.min(_s.end_us)).where(
            _s.hot.is_(True), _s.state == "ok", _s.camera_id.in_(list(cameras)), ~_verified_on(tier)
        )
        if footage != "all":
            query = query.where(or_(_s.event_footage.is_(None), _s.event_footage.is_(footage == "events")))
        with self._catalog._read() as conn:
            oldest = conn.execute(query).scalar()
        return max(0, now_us - int(oldest)) if oldest is not None else 0
