"""The equipment register in the catalog's database (tables of migration 0012): ``SqlEquipment`` is the
:class:`vigil.ports.EquipmentStore`. A record changes as a whole new revision, compare-and-set on the revision the
writer saw, in one transaction with its history entry (append-only: triggers refuse UPDATE and DELETE)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select, update

from vigil.domain.equipment import (
    Dependency,
    Document,
    Equipment,
    EquipmentHistoryEntry,
    EquipmentKind,
)
from vigil.domain.errors import Conflict, NotFound
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog

_e = t.equipment.c
_h = t.equipment_history.c
_d = t.equipment_documents.c
FIELDS = [c.name for c in t.equipment.c if c.name not in ("kind", "depends_on", "seed")]


def _equipment(row: RowMapping) -> Equipment:
    values: dict[str, Any] = {name: row[name] for name in FIELDS}
    links = tuple(Dependency(str(d["equipment_id"]), str(d.get("port", ""))) for d in row["depends_on"] or ())
    return Equipment(kind=EquipmentKind(row["kind"]), depends_on=links, **values)


def _values(e: Equipment) -> dict[str, Any]:
    values = {name: getattr(e, name) for name in FIELDS}
    values["kind"] = e.kind.value
    values["depends_on"] = [d.as_dict() for d in e.depends_on]
    return values


def _history(conn: Connection, entry: EquipmentHistoryEntry) -> None:
    conn.execute(
        insert(t.equipment_history).values(
            equipment_id=entry.equipment_id,
            at_us=entry.at_us,
            actor=entry.actor,
            change=str(entry.change),
            revision=entry.revision,
            detail=dict(entry.detail),
        )
    )


def _document(row: RowMapping) -> Document:
    return Document(**dict(row))


class SqlEquipment:
    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog

    def get(self, equipment_id: str) -> Equipment | None:
        with self._catalog._read() as conn:
            row = conn.execute(select(t.equipment).where(_e.id == equipment_id)).mappings().first()
            return _equipment(row) if row else None

    def all(self, *, include_removed: bool = False) -> list[Equipment]:
        query = select(t.equipment).order_by(_e.kind, _e.id)
        if not include_removed:
            query = query.where(_e.removed_us.is_(None))
        with self._catalog._read() as conn:
            return [_equipment(r) for r in conn.execute(query).mappings()]

    def seed(self, equipment_id: str) -> dict[str, Any]:
        with self._catalog._read() as conn:
            value = conn.execute(select(_e.seed).where(_e.id == equipment_id)).scalar_one_or_none()
            return dict(value or {})

    def add(self, item: Equipment, entry: EquipmentHistoryEntry, seed: Mapping[str, Any] | None = None) -> Equipment:
        """Store a new record at revision 1 (Conflict when the id is taken)."""
        with self._catalog._write() as conn:
            if conn.execute(select(_e.id).where(_e.id == item.id)).first() is not None:
                raise Conflict(f"equipment {item.id!r} exists already")
            conn.execute(insert(t.equipment).values(**_values(item), seed=dict(seed or {})))
            _history(conn, entry)
            return _equipment(conn.execute(select(t.equipment).where(_e.id == item.id)).mappings().one())

    def update(
        self,
        item: Equipment,
        revision: int,
        entry: EquipmentHistoryEntry,
        seed: Mapping[str, Any] | None = None,
    ) -> Equipment:
        """Store ``item`` if the stored record is still at ``revision`` (else Conflict, naming who changed it)."""
        values = _values(item)
        if seed is not None:
            values["seed"] = dict(seed)
        with self._catalog._write() as conn:
            done = conn.execute(update(t.equipment).where(_e.id == item.id, _e.revision == revision).values(**values))
            if not done.rowcount:
                now = conn.execute(select(_e.revision, _e.updated_by).where(_e.id == item.id)).first()
                if now is None:
                    raise NotFound(f"no equipment with id {item.id!r}")
                raise Conflict(
                    f"equipment {item.id!r} was changed meanwhile by {now.updated_by or 'someone'} "
                    f"(revision {now.revision}, you saw {revision}); look again"
                )
            _history(conn, entry)
            return _equipment(conn.execute(select(t.equipment).where(_e.id == item.id)).mappings().one())

    def set_seed(self, equipment_id: str, seed: Mapping[str, Any]) -> None:
        with self._catalog._write() as conn:
            conn.execute(update(t.equipment).where(_e.id == equipment_id).values(seed=dict(seed)))

    def history(self, equipment_id: str, limit: int = 500) -> list[EquipmentHistoryEntry]:
        query = select(t.equipment_history).where(_h.equipment_id == equipment_id).order_by(_h.id.desc()).limit(limit)
        with self._catalog._read() as conn:
            return [
                EquipmentHistoryEntry(
                    r["equipment_id"], r["at_us"], r["actor"], r["change"], r["revision"], r["detail"]
                )
                for r in conn.execute(query).mappings()
            ]

    # --- documents -----------------------------------------------------------------------------------------------
    def add_document(self, document: Document, entry: EquipmentHistoryEntry) -> Document:
        values = {
            "equipment_id": document.equipment_id,
            "name": document.name,
            "content_type": document.content_type,
            "size_bytes": document.size_bytes,
            "sha256": document.sha256,
            "added_us": document.added_us,
            "added_by": document.added_by,
        }
        with self._catalog._write() as conn:
            new = conn.execute(insert(t.equipment_documents).values(**values)).inserted_primary_key
            assert new is not None
            _history(conn, entry)
            row = conn.execute(select(t.equipment_documents).where(_d.id == int(new[0]))).mappings().one()
            return _document(row)

    def documents(self, equipment_id: str, *, include_removed: bool = False) -> list[Document]:
        query = select(t.equipment_documents).where(_d.equipment_id == equipment_id).order_by(_d.id)
        if not include_removed:
            query = query.where(_d.removed_us.is_(None))
        with self._catalog._read() as conn:
            return [_document(r) for r in conn.execute(query).mappings()]

    def document(self, document_id: int) -> Document | None:
        with self._catalog._read() as conn:
            row = conn.execute(select(t.equipment_documents).where(_d.id == document_id)).mappings().first()
            return _document(row) if row else None

    def remove_document(self, document_id: int, by: str, at_us: int, entry: EquipmentHistoryEntry) -> Document:
        with self._catalog._write() as conn:
            done = conn.execute(
                update(t.equipment_documents)
                .where(_d.id == document_id, _d.removed_us.is_(None))
                .values(removed_us=at_us, removed_by=by)
            )
            if not done.rowcount:
                raise NotFound(f"no document with id {document_id}")
            _history(conn, entry)
            return _document(conn.execute(select(t.equipment_documents).where(_d.id == document_id)).mappings().one())

    def documents_with_hash(self, sha256: str) -> Sequence[Document]:
        with self._catalog._read() as conn:
            return [
                _document(r) for r in conn.execute(select(t.equipment_documents).where(_d.sha256 == sha256)).mappings()
            ]
