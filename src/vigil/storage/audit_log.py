"""The audit log in the catalog's database (table ``audit``, migration 0004) and its head anchor file.

``SqlAuditLog(catalog)`` shares the catalog's engine and its one writer lock rather than opening a second engine:
SQLite has one writer per database anyway, and the catalog's lock is what serialises writers in this process
(a second engine would only queue on SQLite's file lock and its busy timeout). It is a class of its own so the
catalog module does not grow, and so the API and the CLI can be handed the audit log alone (``ports.AuditLog``).

Appending reads the newest entry and inserts the next one in one write transaction, under the writer lock, so
appends in one process never fork the chain. Across processes (``vigil serve`` and a ``vigil audit export``) the
SQLite transaction takes the file's write lock (``BEGIN IMMEDIATE``) before it reads the head; on other
databases ``seq`` is the primary key, so a second writer that read the same head fails on insert and is retried.

After each append the head ``SEQ:HASH`` is written to the anchor file (``audit.head`` beside the SQLite file,
replaced atomically: part file, fsync, rename, fsync folder), after the commit, so a crash leaves the anchor at
most one entry behind, never ahead. The anchor only moves forward along the same chain: when it names an entry
the database does not have, or has with another hash, it is left as it is (it is the evidence that
``vigil audit verify`` reports) and an error is logged. The database triggers refuse UPDATE and DELETE on
``audit``; removing the newest entries by other means shows against the anchor (ADR 0005).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, Select, Text, cast, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from vigil.domain.audit import AuditAction, AuditEntry, AuditHead, new_entry, parse_head
from vigil.domain.errors import InvalidRequest, StorageError
from vigil.durable_files import fsync_dir, fsync_file
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog, _like_literal

log = logging.getLogger(__name__)

ANCHOR_NAME = "audit.head"
APPEND_ATTEMPTS = 5  # inserts retried when another process took the same seq
BATCH = 1000


def audit_anchor_path(catalog_url: str, root: Path) -> Path:
    """Where the anchor lives: beside the SQLite file; for other databases beside the storage ``root``
    (where the default ``vigil.db`` would be)."""
    database = _sqlite_file(catalog_url)
    return database.with_name(ANCHOR_NAME) if database else root.resolve().parent / ANCHOR_NAME


def _sqlite_file(catalog_url: str) -> Path | None:
    url = make_url(catalog_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve()
    return None


class AuditAnchorFile:
    """The remembered head of the chain, one line ``SEQ:HASH``, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> AuditHead | None:
        """The head it holds; None when there is no file. Raises StorageError when it cannot be read or parsed."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise StorageError(f"cannot read the audit anchor {self.path}: {exc}") from exc
        try:
            return parse_head(text)
        except ValueError as exc:
            raise StorageError(f"the audit anchor {self.path} is damaged: {exc}") from exc

    def write(self, head: AuditHead) -> None:
        part = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            part.write_text(f"{head}\n", encoding="utf-8")
            fsync_file(part)
            part.replace(self.path)
            fsync_dir(self.path.parent)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise StorageError(f"cannot write the audit anchor {self.path}: {exc}") from exc


class SqlAuditLog:
    """The ``AuditLog`` port on the catalog's database. ``anchor_path`` defaults to ``audit.head`` beside a
    SQLite catalog; other databases must be given one (see :func:`audit_anchor_path`)."""

    def __init__(self, catalog: SqlCatalog, anchor_path: Path | None = None) -> None:
        self._catalog = catalog
        if anchor_path is None:
            database = _sqlite_file(catalog.url)
            if database is None:
                raise StorageError(f"the audit log of {make_url(catalog.url)} needs an anchor path")
            anchor_path = database.with_name(ANCHOR_NAME)
        self.anchor_file = AuditAnchorFile(anchor_path)
        self._append_lock = threading.Lock()  # appends and anchor writes in order (taken before the writer lock)

    # --- writing ---------------------------------------------------------------------------------------
    def append(
        self,
        at_us: int,
        actor: str,
        action: AuditAction | str,
        *,
        camera_id: str | None = None,
        range_start_us: int | None = None,
        range_end_us: int | None = None,
        client: str = "",
        reason: str = "",
        detail: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Record one act as the next entry of the chain and move the anchor to it. Raises InvalidRequest for
        an unknown action, an empty actor, a range ending before it starts or a detail JSON cannot carry;
        StorageError when the database refuses."""
        values: dict[str, Any] = {
            "camera_id": camera_id,
            "range_start_us": range_start_us,
            "range_end_us": range_end_us,
            "client": client,
            "reason": reason,
            "detail": detail,
        }
        new_entry(None, at_us, actor, action, **values)  # refuse bad input before taking any lock
        with self._append_lock:
            for attempt in range(1, APPEND_ATTEMPTS + 1):
                try:
                    with self._catalog._write() as conn:
                        if conn.dialect.name == "sqlite":  # the file's write lock before the head is read
                            conn.exec_driver_sql("BEGIN IMMEDIATE")  # (pysqlite begins only before DML itself)
                        entry = new_entry(self._head(conn), at_us, actor, action, **values)
                        conn.execute(insert(t.audit).values(**entry.as_dict()))
                    break
                except StorageError as exc:
                    if not isinstance(exc.__cause__, IntegrityError) or attempt == APPEND_ATTEMPTS:
                        raise
                    log.info("audit seq taken by another writer; appending again (attempt %d)", attempt + 1)
            self._advance_anchor(entry)
        return entry

    def _advance_anchor(self, entry: AuditEntry) -> None:
        try:
            current = self.anchor_file.read()
            if current is not None:
                at_anchor = entry.prev_hash if current.seq == entry.seq - 1 else self._hash_at(current.seq)
                if at_anchor != current.hash:
                    log.error(
                        "the audit anchor %s (seq %d) disagrees with the log: left as it is; run vigil audit verify",
                        self.anchor_file.path,
                        current.seq,
                    )
                    return
                if current.seq >= entry.seq:
                    return  # another writer (process) has moved it on already
            self.anchor_file.write(entry.head)
        except StorageError as exc:
            log.error("audit anchor not moved to seq %d: %s", entry.seq, exc.message)

    # --- reading ---------------------------------------------------------------------------------------
    def head(self) -> AuditHead | None:
        """``(seq, hash)`` of the newest entry; None when the log is empty."""
        with self._catalog._read() as conn:
            return self._head(conn)

    def anchor(self) -> AuditHead | None:
        """The head remembered in the anchor file; None when there is none. StorageError when unreadable."""
        return self.anchor_file.read()

    def entries(
        self,
        actor: str | None = None,
        action: AuditAction | str | None = None,
        camera_id: str | None = None,
        start_us: int | None = None,
        end_us: int | None = None,
        text: str | None = None,
        limit: int = 100,
        offset: int = 0,
        *,
        max_seq: int | None = None,
    ) -> list[AuditEntry]:
        """Entries newest first (by ``seq``), filtered by actor, action, camera (exact), the time they happened
        (``start_us <= at_us < end_us``) and words (``text``, case aside) in the reason, actor, client or detail.
        ``max_seq`` pages through a stable view while the log grows: pass the last seq of a page minus one.
        Raises InvalidRequest for an unknown action."""
        c = t.audit.c
        conds: list[ColumnElement[bool]] = []
        if actor is not None:
            conds.append(c.actor == actor)
        if action is not None:
            try:
                conds.append(c.action == AuditAction(action).value)
            except ValueError:
                raise InvalidRequest(f"action: {action!r} is not one of {', '.join(AuditAction)}") from None
        if camera_id is not None:
            conds.append(c.camera_id == camera_id)
        if start_us is not None:
            conds.append(c.at_us >= start_us)
        if end_us is not None:
            conds.append(c.at_us < end_us)
        if max_seq is not None:
            conds.append(c.seq <= max_seq)
        if text:
            pattern = "%" + _like_literal(text) + "%"
            conds.append(
                c.reason.ilike(pattern, escape="\\")
                | c.actor.ilike(pattern, escape="\\")
                | c.client.ilike(pattern, escape="\\")
                | cast(c.detail, Text).ilike(pattern, escape="\\")
            )
        query = _entry_query().where(*conds).order_by(c.seq.desc()).limit(limit).offset(offset)
        with self._catalog._read() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def touching(self, camera_ids: Sequence[str], start_us: int, end_us: int) -> list[AuditEntry]:
        """Every entry about this footage, oldest first: on one of the cameras, with a range of footage that
        overlaps ``[start_us, end_us)``, or with no range (a live view, a refusal) made while it was recorded."""
        c = t.audit.c
        overlaps = (c.range_start_us < end_us) & (c.range_end_us >= start_us)
        live = c.range_start_us.is_(None) & (c.at_us >= start_us) & (c.at_us < end_us)
        query = _entry_query().where(c.camera_id.in_(list(camera_ids)), overlaps | live).order_by(c.seq)
        with self._catalog._read() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def all_in_order(self, batch: int = BATCH) -> Iterator[AuditEntry]:
        """Every entry, oldest first, read ``batch`` at a time (for verification: the log may be large)."""
        after = 0
        while True:
            query = _entry_query().where(t.audit.c.seq > after).order_by(t.audit.c.seq).limit(batch)
            with self._catalog._read() as conn:
                rows = [_entry(row) for row in conn.execute(query)]
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].seq

    def _head(self, conn: Connection) -> AuditHead | None:
        row = conn.execute(select(t.audit.c.seq, t.audit.c.hash).order_by(t.audit.c.seq.desc()).limit(1)).first()
        return None if row is None else AuditHead(row.seq, row.hash)

    def _hash_at(self, seq: int) -> str | None:
        with self._catalog._read() as conn:
            return conn.execute(select(t.audit.c.hash).where(t.audit.c.seq == seq)).scalar()


def _entry_query() -> Select[Any]:
    c = t.audit.c
    columns = [col for col in t.audit.c if col.name != "detail"]
    return select(*columns, cast(c.detail, Text).label("detail"))  # raw text: a damaged detail is reported


def _entry(row: Row[Any]) -> AuditEntry:
    values = dict(row._mapping)
    try:
        detail = json.loads(values["detail"])
    except (TypeError, ValueError):
        detail = {"unreadable detail": values["detail"]}  # cannot match the hash: verify reports it
    return AuditEntry(**{**values, "detail": detail})
