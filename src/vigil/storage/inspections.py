"""Routine inspections in the catalog's database (table of migration 0014): ``SqlInspections`` is the
:class:`vigil.ports.InspectionStore`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import RowMapping, insert, select, update

from vigil.domain.errors import Conflict, NotFound
from vigil.domain.inspections import Answer, Inspection, InspectionState
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog

_i = t.inspections.c


def _inspection(row: RowMapping) -> Inspection:
    answers = tuple(Answer(str(a["item"]), bool(a["ok"]), str(a.get("note", ""))) for a in row["answers"] or ())
    return Inspection(
        id=row["id"],
        name=row["name"],
        camera_id=row["camera_id"],
        due_us=row["due_us"],
        state=InspectionState(row["state"]),
        done_us=row["done_us"],
        done_by=row["done_by"],
        answers=answers,
        picture=row["picture"],
        ticket_id=row["ticket_id"],
    )


def _values(i: Inspection) -> dict[str, Any]:
    return {
        "name": i.name,
        "camera_id": i.camera_id,
        "due_us": i.due_us,
        "state": i.state.value,
        "done_us": i.done_us,
        "done_by": i.done_by,
        "answers": [{"item": a.item, "ok": a.ok, "note": a.note} for a in i.answers],
        "picture": i.picture,
        "ticket_id": i.ticket_id,
    }


class SqlInspections:
    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog

    def add(self, inspection: Inspection) -> Inspection:
        with self._catalog._write() as conn:
            new = conn.execute(insert(t.inspections).values(**_values(inspection))).inserted_primary_key
            assert new is not None
            return replace(inspection, id=int(new[0]))

    def update(self, inspection: Inspection, expected: InspectionState) -> Inspection:
        """Store it if the stored one is still in state ``expected`` (else Conflict: done meanwhile)."""
        with self._catalog._write() as conn:
            done = conn.execute(
                update(t.inspections)
                .where(_i.id == inspection.id, _i.state == expected.value)
                .values(**_values(inspection))
            )
            if not done.rowcount:
                now = conn.execute(select(_i.state, _i.done_by).where(_i.id == inspection.id)).first()
                if now is None:
                    raise NotFound(f"no inspection with id {inspection.id}")
                raise Conflict(f"inspection {inspection.id} is {now.state} already ({now.done_by or 'Vigil'})")
        return inspection

    def get(self, inspection_id: int) -> Inspection | None:
        with self._catalog._read() as conn:
            row = conn.execute(select(t.inspections).where(_i.id == inspection_id)).mappings().first()
            return _inspection(row) if row else None

    def latest(self, name: str, camera_id: str) -> Inspection | None:
        query = select(t.inspections).where(_i.name == name, _i.camera_id == camera_id).order_by(_i.id.desc()).limit(1)
        with self._catalog._read() as conn:
            row = conn.execute(query).mappings().first()
            return _inspection(row) if row else None

    def list(self, state: str | None = None, camera_id: str | None = None, limit: int = 500) -> list[Inspection]:
        query = select(t.inspections)
        if state is not None:
            query = query.where(_i.state == state)
        if camera_id is not None:
            query = query.where(_i.camera_id == camera_id)
        order = _i.due_us if state == InspectionState.DUE.value else _i.id.desc()
        with self._catalog._read() as conn:
            return [_inspection(r) for r in conn.execute(query.order_by(order).limit(limit)).mappings()]
