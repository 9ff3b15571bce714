"""Durable files: fsync a file and its folder, publish a finished part file by rename, hash a file.

Shared by the adapters that write files (recorder segments, clips, exports)."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

from vigil.domain.segment_names import PART_SUFFIX


def part_path(final: Path) -> Path:
    return final.with_name(final.name + PART_SUFFIX)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def publish_part(part: Path, final: Path, digest: str | None = None) -> tuple[int, str]:
    """fsync a closed part file, rename it to its final name, fsync the folder; return (size, sha256).
    ``digest``: the SHA-256 computed while writing (else the file is read back to hash it)."""
    fsync_file(part)
    part.replace(final)
    fsync_dir(final.parent)
    return final.stat().st_size, digest or sha256_file(final)


class HashingFile(io.RawIOBase):
    """An unbuffered output file that computes its SHA-256 as bytes pass through, so a finished segment need
    not be read back to be hashed. Every write reaches the kernel at once (a killed process loses nothing
    that was written). If the writer ever seeks, the running hash is void and :meth:`sha256` reads the file."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._file = path.open("wb", buffering=0)
        self._digest = hashlib.sha256()
        self._pos = 0
        self._sequential = True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            done += self._file.write(view[done:]) or 0
        if self._sequential:
            self._digest.update(view)
        self._pos += done
        return done

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = self._file.seek(offset, whence)
        if target != self._pos:
            self._sequential = False
        self._pos = target
        return target

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        super().close()

    def sha256(self) -> str:
        return self._digest.hexdigest() if self._sequential else sha256_file(self.path)
