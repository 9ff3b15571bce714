"""What availability and the health strip are computed from, read in bulk from the catalog: each camera's first
recorded moment (its segments and the deletion ledger: footage retention removed was recorded), its main stream's
gaps, its picture-fault events, and the maintenance windows placed at run time. ``SqlHistory`` is the
:class:`vigil.ports.HistoryReader`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, func, or_, select, union_all

from vigil.domain.availability import GapSpan, Span
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog

_g = t.gaps.c
_e = t.events.c
_s = t.alarm_suppressions.c
FEW = 50  # up to this many cameras, their events are read along the camera index


def _rows(conn: Connection, query: Select[Any]) -> list[tuple[Any, ...]]:
    """Every row of ``query`` as plain tuples, fetched by the database driver itself: a year of a site is some
    hundred thousand rows, and SQLAlchemy's own rows cost more than reading them."""
    compiled = query.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params: Any = compiled.params
    if compiled.positional:
        params = [compiled.params[name] for name in compiled.positiontup or ()]
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), params)
        return [tuple(r) for r in cursor.fetchall()]
    finally:
        cursor.close()


class SqlHistory:
    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog

    def first_recorded(self) -> dict[str, int]:
        seg, led = t.segments.c, t.deletion_ledger.c
        both = union_all(
            select(seg.camera_id, func.min(seg.start_us).label("first"))
            .where(seg.stream == "main")
            .group_by(seg.camera_id),
            select(led.camera_id, func.min(led.start_us).label("first"))
            .where(led.stream == "main")
            .group_by(led.camera_id),
        ).subquery()
        query = select(both.c.camera_id, func.min(both.c.first)).group_by(both.c.camera_id)
        with self._catalog._read() as conn:
            return {str(c): int(v) for c, v in conn.execute(query)}

    def gaps(self, start_us: int, end_us: int, cameras: Sequence[str] | None = None) -> dict[str, list[GapSpan]]:
        query = select(_g.camera_id, _g.start_us, _g.end_us, _g.cause).where(
            _g.stream == "main", _g.start_us < end_us, or_(_g.end_us.is_(None), _g.end_us > start_us)
        )
        if cameras is not None:
            query = query.where(_g.camera_id.in_(list(cameras)))
        out: dict[str, list[GapSpan]] = {}
        with self._catalog._read() as conn:
            for camera, a, b, cause in _rows(conn, query.order_by(_g.camera_id, _g.start_us)):
                out.setdefault(camera, []).append(GapSpan(a, b, cause))
        return out

    def faults(
        self, start_us: int, end_us: int, cameras: Sequence[str] | None = None
    ) -> dict[str, list[tuple[int, int | None]]]:
        few = cameras is not None and len(cameras) <= FEW
        # a few cameras' events are read along the camera index (the type, wrapped, is not looked up by its index)
        kind = func.coalesce(_e.type, "") if few else _e.type
        query = select(_e.camera_id, _e.start_us, _e.end_us).where(
            kind == "fault",
            _e.camera_id.is_not(None),
            _e.start_us < end_us,
            or_(_e.end_us.is_(None), _e.end_us > start_us),
        )
        if cameras is not None:
            query = query.where(_e.camera_id.in_(list(cameras)))
        out: dict[str, list[tuple[int, int | None]]] = {}
        with self._catalog._read() as conn:
            for camera, a, b in _rows(conn, query):
                out.setdefault(camera, []).append((a, b))
        return out

    def windows(self, start_us: int, end_us: int) -> list[tuple[tuple[str, ...], Span]]:
        """Maintenance windows placed at run time: (cameras, or () for all, and their span), as far as they held."""
        query = select(_s.cameras, _s.start_us, _s.end_us, _s.lifted_us).where(
            _s.kind == "maintenance", _s.start_us < end_us
        )
        out: list[tuple[tuple[str, ...], Span]] = []
        with self._catalog._read() as conn:
            for cameras, a, b, lifted in conn.execute(query):
                stop = min(x for x in (b, lifted, end_us) if x is not None)
                if stop > max(a, start_us):
                    out.append((tuple(cameras or ()), (a, stop)))
        return out
