"""Evidence packages on disk: written into a staging folder, published whole as a folder or a .zip; custody
entries appended afterwards without ever leaving a half-written package (ADR 0008).

Writing: every file goes into ``.<name>.<pid>.staging`` beside the package's path. :meth:`StagedPackage.publish`
fsyncs each file, then either renames the staging folder to the package's name or writes the .zip as a part file
(clips and snapshots stored as they are, JSON and text deflated), fsyncs it and renames it. Until then nothing
exists at the package's path; a crash leaves only the staging folder or part file, which a later export ignores.

Appending (``vigil evidence handover``): to a folder, the new custody file is written as a part file and linked to
its name (never over an existing one); to a .zip, a copy of the zip is made with the new member added, fsynced
and renamed over the old one, so a crash leaves the old zip whole (slow for a large zip; handovers are rare).
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from vigil.domain.errors import Conflict, InvalidRequest, NotFound, StorageError
from vigil.domain.evidence import CUSTODY_DIR, MANIFEST, README, SIGNATURE, VERIFIER
from vigil.durable_files import fsync_dir, fsync_file, sha256_file

STORED_SUFFIXES = (".mp4", ".jpg", ".jpeg")  # compressed already: a zip stores them as they are
FIRST = (README, VERIFIER, MANIFEST, SIGNATURE)  # the zip's first members, then custody, then the rest


def _safe(relpath: str) -> str:
    parts = relpath.split("/")
    if not relpath or relpath.startswith("/") or "\\" in relpath or ".." in parts or "" in parts:
        raise InvalidRequest(f"not a file name inside a package: {relpath!r}")
    return relpath


def _order(relpath: str) -> tuple[int, str]:
    if relpath in FIRST:
        return FIRST.index(relpath), relpath
    return (len(FIRST), relpath) if relpath.startswith(CUSTODY_DIR + "/") else (len(FIRST) + 1, relpath)


class StagedPackage:
    """The ``PackageBuilder`` port."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.as_zip = out.suffix.lower() == ".zip"
        if out.exists():
            raise Conflict(f"{out} exists already: choose a new name for the package")
        if not out.parent.is_dir():
            raise InvalidRequest(f"output: no folder {out.parent}")
        self.staging = out.with_name(f".{out.name}.{os.getpid()}.staging")
        try:
            if self.staging.exists():
                shutil.rmtree(self.staging)
            self.staging.mkdir()
        except OSError as exc:
            raise StorageError(f"cannot write the package {out}: {exc}") from exc

    def path(self, relpath: str) -> Path:
        target = self.staging / _safe(relpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write(self, relpath: str, data: bytes) -> None:
        self.path(relpath).write_bytes(data)

    def copy(self, relpath: str, source: Path) -> None:
        shutil.copyfile(source, self.path(relpath))

    def describe(self, relpath: str) -> tuple[int, str]:
        target = self.staging / _safe(relpath)
        return target.stat().st_size, sha256_file(target)

    def names(self) -> list[str]:
        return sorted(p.relative_to(self.staging).as_posix() for p in self.staging.rglob("*") if p.is_file())

    def _files(self) -> list[str]:
        return sorted(self.names(), key=_order)

    def publish(self) -> int:
        try:
            files = self._files()
            for relpath in files:
                fsync_file(self.staging / relpath)
            if self.as_zip:
                size = self._zip(files)
                shutil.rmtree(self.staging)
                return size
            for folder in sorted({(self.staging / f).parent for f in files}, key=lambda p: -len(p.parts)):
                fsync_dir(folder)
            self.staging.rename(self.out)
            fsync_dir(self.out.parent)
            return sum((self.out / f).stat().st_size for f in files)
        except OSError as exc:
            raise StorageError(f"cannot write the package {self.out}: {exc}") from exc

    def _zip(self, files: list[str]) -> int:
        part = self.out.with_name(f".{self.out.name}.{os.getpid()}.part")
        try:
            with zipfile.ZipFile(part, "w", allowZip64=True) as zf:
                for relpath in files:
                    stored = relpath.lower().endswith(STORED_SUFFIXES)
                    zf.write(self.staging / relpath, relpath, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
            fsync_file(part)
            part.replace(self.out)
            fsync_dir(self.out.parent)
        finally:
            part.unlink(missing_ok=True)
        return self.out.stat().st_size

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


class FolderPackage:
    """A published package folder (the ``SealedPackage`` port)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def names(self) -> list[str]:
        return sorted(p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file())

    def read(self, relpath: str) -> bytes:
        return (self.path / _safe(relpath)).read_bytes()

    def append(self, relpath: str, data: bytes) -> None:
        target = self.path / _safe(relpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(f".{target.name}.{os.getpid()}.part")
        try:
            part.write_bytes(data)
            fsync_file(part)
            os.link(part, target)  # never over an existing file
            fsync_dir(target.parent)
        except FileExistsError:
            raise Conflict(f"{relpath} exists already in {self.path}") from None
        except OSError as exc:
            raise StorageError(f"cannot add {relpath} to {self.path}: {exc}") from exc
        finally:
            part.unlink(missing_ok=True)


class ZipPackage:
    """A published package .zip (the ``SealedPackage`` port)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def names(self) -> list[str]:
        with zipfile.ZipFile(self.path) as zf:
            return sorted({i.filename for i in zf.infolist() if not i.is_dir()})

    def read(self, relpath: str) -> bytes:
        with zipfile.ZipFile(self.path) as zf:
            return zf.read(_safe(relpath))

    def append(self, relpath: str, data: bytes) -> None:
        if _safe(relpath) in self.names():
            raise Conflict(f"{relpath} exists already in {self.path}")
        part = self.path.with_name(f".{self.path.name}.{os.getpid()}.part")
        try:
            shutil.copyfile(self.path, part)
            with zipfile.ZipFile(part, "a", allowZip64=True) as zf:
                zf.writestr(relpath, data, zipfile.ZIP_DEFLATED)
            fsync_file(part)
            part.replace(self.path)
            fsync_dir(self.path.parent)
        except OSError as exc:
            raise StorageError(f"cannot add {relpath} to {self.path}: {exc}") from exc
        finally:
            part.unlink(missing_ok=True)


def open_sealed(path: Path) -> FolderPackage | ZipPackage:
    """The package at ``path``: a folder, or a .zip file."""
    if path.is_dir():
        return FolderPackage(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return ZipPackage(path)
    raise NotFound(f"{path} is neither a package folder nor a .zip")
