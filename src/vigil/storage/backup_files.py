"""A node's own files for a backup (ADR 0018), by logical name: gathered into a staging folder (the catalog as an
online, consistent copy through SQLite's backup API; the site key sealed with a passphrase), and, on restore, put
where the restored configuration says a node keeps them, only after every one of them was checked."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vigil.domain.backup import ANCHOR, CATALOG, CONFIG, SEALED_KEY, BackupFile
from vigil.domain.errors import StorageError
from vigil.durable_files import sha256_file
from vigil.storage.config_file import HISTORY_DIR
from vigil.storage.site_key import SiteKey


@dataclass(frozen=True, slots=True)
class NodeFiles:
    """Where a node keeps what a backup holds (from its configuration and the configuration file's folder)."""

    config_file: Path
    catalog_file: Path
    anchor: Path
    key: Path
    folders: dict[str, Path]  # logical prefix (plans/, evidence/, ...) -> folder

    def targets(self) -> list[Path]:
        """Everything a restore writes: each must not exist yet (or be an empty folder)."""
        return [self.config_file, self.catalog_file, self.anchor, self.key, *self.folders.values()]


def _files(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not any(
                p.startswith(".") and p != HISTORY_DIR for p in path.relative_to(folder).parts
            ):
                yield path


def stage(node: NodeFiles, key: SiteKey | None, passphrase: str | None, into: Path) -> list[BackupFile]:
    """Copy the node's files into ``into`` by logical name; what was staged. ``key`` None or no passphrase: the
    site key is left out (a restored node then makes a new one)."""
    out: list[BackupFile] = []

    def add(name: str, source: Path | None = None, data: bytes | None = None) -> None:
        dest = into / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        if data is not None:
            dest.write_bytes(data)
        elif source is not None:
            shutil.copyfile(source, dest)
        out.append(BackupFile(name, dest.stat().st_size, sha256_file(dest)))

    try:
        if node.anchor.is_file():  # before the catalog: the anchor may lag the copy's audit log, never lead it
            add(ANCHOR, node.anchor)
        dest = into / CATALOG
        dest.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(node.catalog_file) as src, sqlite3.connect(dest) as copy:
            src.backup(copy)  # online and consistent, whatever the recorder writes meanwhile
        copy.close()
        src.close()
        out.append(BackupFile(CATALOG, dest.stat().st_size, sha256_file(dest)))
        add(CONFIG, node.config_file)
        if key is not None and passphrase:
            add(SEALED_KEY, data=key.sealed(passphrase))
        for prefix, folder in node.folders.items():
            for path in _files(folder):
                add(prefix + path.relative_to(folder).as_posix(), path)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"cannot gather the backup: {exc}") from None
    return out


def integrity(catalog_file: Path) -> str:
    """SQLite's own check of a catalog copy: ``ok`` or what is wrong."""
    try:
        with sqlite3.connect(catalog_file) as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        conn.close()
    except sqlite3.Error as exc:
        return str(exc)
    return "; ".join(str(r[0]) for r in rows)


def place(staging: Path, node: NodeFiles) -> int:
    """Move every staged file where ``node`` keeps it; how many. The caller checked everything beforehand."""
    moves: list[tuple[Path, Path]] = [(staging / CONFIG, node.config_file), (staging / CATALOG, node.catalog_file)]
    if (staging / ANCHOR).is_file():
        moves.append((staging / ANCHOR, node.anchor))
    for prefix, folder in node.folders.items():
        for path in _files(staging / prefix.rstrip("/")):
            moves.append((path, folder / path.relative_to(staging / prefix.rstrip("/"))))
    for source, dest in moves:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), str(dest))
    return len(moves)
