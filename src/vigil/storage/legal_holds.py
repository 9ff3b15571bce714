"""Legal holds and the register of evidence packages, in the catalog's database (revision 0007).

Both share the catalog's engine and its one writer lock (as the audit log does). A hold row is never deleted: lifting
fills in who lifted it, when and why. The catalog's ``mark_deleting`` reads ``legal_holds`` in the same transaction
that marks a segment, so a hold placed by another process after retention planned is still respected.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, insert, select, update

from vigil.domain.errors import Conflict, NotFound
from vigil.domain.evidence import PackageRecord
from vigil.domain.holds import LegalHold
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog


def _hold(row: RowMapping) -> LegalHold:
    return LegalHold(**dict(row))


class SqlLegalHolds:
    """The ``LegalHolds`` port."""

    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog

    def place(
        self,
        camera_id: str,
        start_us: int,
        end_us: int,
        placed_us: int,
        placed_by: str,
        reason: str,
        package_id: str | None = None,
    ) -> LegalHold:
        values: dict[str, Any] = {
            "camera_id": camera_id,
            "start_us": start_us,
            "end_us": end_us,
            "placed_us": placed_us,
            "placed_by": placed_by,
            "reason": reason,
            "package_id": package_id,
        }
        with self._catalog._write() as conn:
            new_id = conn.execute(insert(t.legal_holds).values(**values)).inserted_primary_key
        assert new_id is not None
        return LegalHold(id=int(new_id[0]), **values)

    def lift(self, hold_id: int, lifted_us: int, lifted_by: str, reason: str) -> LegalHold:
        """Lift an active hold. NotFound for no such hold; Conflict when it was lifted already."""
        c = t.legal_holds.c
        with self._catalog._write() as conn:
            row = conn.execute(select(t.legal_holds).where(c.id == hold_id)).mappings().first()
            if row is None:
                raise NotFound(f"no legal hold with id {hold_id}")
            if row["lifted_us"] is not None:
                raise Conflict(f"legal hold {hold_id} was lifted already, by {row['lifted_by']}")
            values = {"lifted_us": lifted_us, "lifted_by": lifted_by, "lift_reason": reason}
            conn.execute(update(t.legal_holds).where(c.id == hold_id).values(**values))
        return LegalHold(**{**dict(row), **values})

    def hold(self, hold_id: int) -> LegalHold | None:
        with self._catalog._read() as conn:
            row = conn.execute(select(t.legal_holds).where(t.legal_holds.c.id == hold_id)).mappings().first()
        return _hold(row) if row else None

    def holds(
        self, *, active_only: bool = True, camera_id: str | None = None, limit: int = 1000, offset: int = 0
    ) -> list[LegalHold]:
        """Holds newest first; only the active ones unless ``active_only`` is False."""
        c = t.legal_holds.c
        query = select(t.legal_holds)
        if active_only:
            query = query.where(c.lifted_us.is_(None))
        if camera_id is not None:
            query = query.where(c.camera_id == camera_id)
        query = query.order_by(c.id.desc()).limit(limit).offset(offset)
        with self._catalog._read() as conn:
            return [_hold(r) for r in conn.execute(query).mappings()]

    def active(self) -> list[LegalHold]:
        """Every active hold (few: they are placed by people), oldest first."""
        c = t.legal_holds.c
        with self._catalog._read() as conn:
            rows = conn.execute(select(t.legal_holds).where(c.lifted_us.is_(None)).order_by(c.id)).mappings()
            return [_hold(r) for r in rows]

    def covering(self, camera_id: str, start_us: int, end_us: int) -> list[LegalHold]:
        """The active holds on a camera that overlap ``[start_us, end_us)``."""
        c = t.legal_holds.c
        query = select(t.legal_holds).where(
            c.lifted_us.is_(None), c.camera_id == camera_id, c.start_us < end_us, c.end_us > start_us
        )
        with self._catalog._read() as conn:
            return [_hold(r) for r in conn.execute(query.order_by(c.start_us)).mappings()]


def _package(row: RowMapping) -> PackageRecord:
    values = dict(row)
    values["cameras"] = tuple(c for c in values["cameras"].split(",") if c)
    return PackageRecord(**values)


class SqlEvidenceRegister:
    """The ``EvidenceRegister`` port: every evidence package exported from this site."""

    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog

    def add(self, record: PackageRecord) -> None:
        values = {k: getattr(record, k) for k in PackageRecord.__slots__}
        values["cameras"] = ",".join(record.cameras)
        with self._catalog._write() as conn:
            conn.execute(insert(t.evidence_packages).values(**values))

    def package(self, package_id: str) -> PackageRecord | None:
        c = t.evidence_packages.c
        with self._catalog._read() as conn:
            row = conn.execute(select(t.evidence_packages).where(c.id == package_id)).mappings().first()
        return _package(row) if row else None

    def packages(self, limit: int = 100, offset: int = 0) -> list[PackageRecord]:
        """Newest first."""
        c = t.evidence_packages.c
        query = select(t.evidence_packages).order_by(c.created_us.desc(), c.id.desc()).limit(limit).offset(offset)
        with self._catalog._read() as conn:
            return [_package(r) for r in conn.execute(query).mappings()]
