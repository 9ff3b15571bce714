"""A tier in a folder on another disk (a NAS mount, an external disk): segments under their own relative paths,
written as part files, fsynced and renamed, like the recorder's. It is a :class:`vigil.ports.Tier`."""

from __future__ import annotations

import errno
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from vigil.domain.errors import StorageError
from vigil.durable_files import fsync_dir, fsync_file, part_path, sha256_file

CHUNK = 1 << 20


class LocalTier:
    kind = "local"

    def __init__(self, name: str, root: Path) -> None:
        self.name, self.root = name, root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StorageError(f"tier {self.name!r}: {key!r} is outside the tier")
        return path

    def where(self) -> str:
        return f"folder {self.root}"

    def check(self) -> None:
        if not self.root.is_dir():
            raise StorageError(f"tier {self.name!r}: folder {self.root} does not exist (is the disk mounted?)")
        probe = self.root / ".vigil-write-test"
        try:
            probe.write_bytes(b"vigil")
            probe.unlink()
        except OSError as exc:
            raise StorageError(f"tier {self.name!r}: cannot write in {self.root}: {exc.strerror}") from None

    def put(self, key: str, source: Path, *, locked_until_us: int | None = None) -> None:
        final = self._path(key)
        tmp = part_path(final)
        if not self.root.is_dir():
            raise StorageError(f"tier {self.name!r}: folder {self.root} does not exist (is the disk mounted?)")
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, tmp)
            fsync_file(tmp)
            tmp.replace(final)
            fsync_dir(final.parent)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            full = " (the tier's disk is full)" if exc.errno == errno.ENOSPC else ""
            raise StorageError(f"tier {self.name!r}: cannot write {key}: {exc.strerror}{full}") from None

    def sha256(self, key: str) -> str | None:
        try:
            return sha256_file(self._path(key))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"tier {self.name!r}: cannot read {key}: {exc.strerror}") from None

    def fetch(self, key: str, dest: Path) -> str:
        """Copy the object to ``dest``; the SHA-256 of what was written."""
        digest = hashlib.sha256()
        try:
            with self._path(key).open("rb") as src, dest.open("wb") as out:
                while block := src.read(CHUNK):
                    digest.update(block)
                    out.write(block)
        except FileNotFoundError:
            raise StorageError(f"tier {self.name!r}: {key} is missing") from None
        except OSError as exc:
            raise StorageError(f"tier {self.name!r}: cannot read {key}: {exc.strerror}") from None
        return digest.hexdigest()

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"tier {self.name!r}: cannot delete {key}: {exc.strerror}") from None

    def keys(self, prefix: str = "") -> Iterator[str]:
        base = self.root / prefix if prefix else self.root
        if not base.exists():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.endswith(".part"):
                yield str(path.relative_to(self.root))

    def lock(self, key: str, until_us: int) -> bool:
        """A folder has no object lock (the hold itself keeps the footage: Vigil never deletes held segments)."""
        return False

    def locked_until(self, key: str) -> int | None:
        return None
