"""Durable files: fsync a file and its folder, publish a finished part file by rename, hash a file.

Shared by the adapters that write files (recorder segments, clips, exports)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

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


def publish_part(part: Path, final: Path, sha256: str | None = None) -> tuple[int, str]:
    """fsync a closed part file, rename it to its final name, fsync the folder; return (size, sha256).
    Without ``sha256`` the hash is read from the file just written (the page cache holds it), so it is the hash
    of what is on disk; a writer that hashed every byte it wrote (and saw every write succeed) passes its own."""
    fsync_file(part)
    part.replace(final)
    fsync_dir(final.parent)
    return final.stat().st_size, sha256 if sha256 is not None else sha256_file(final)
