"""Segment files on a local disk, under one root folder."""

from __future__ import annotations

import shutil
from pathlib import Path

from vigil.domain.segment import Segment
from vigil.domain.segment_names import PART_SUFFIX, SEGMENT_SUFFIX
from vigil.domain.tiers import HOT
from vigil.durable_files import fsync_dir, sha256_file
from vigil.ports import DiskUsage


class LocalSegmentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def absolute(self, relpath: str) -> Path:
        return self.root / relpath

    def size(self, relpath: str) -> int | None:
        try:
            return (self.root / relpath).stat().st_size
        except FileNotFoundError:
            return None

    def sha256(self, relpath: str) -> str:
        return sha256_file(self.root / relpath)

    def delete(self, relpath: str) -> None:
        path = self.root / relpath
        path.unlink(missing_ok=True)
        if path.parent.is_dir():
            fsync_dir(path.parent)
            if not any(path.parent.iterdir()):
                path.parent.rmdir()

    def local(self, seg: Segment) -> Path:
        return self.absolute(seg.path)

    def erase(self, seg: Segment) -> list[str]:
        self.delete(seg.path)
        return [HOT]

    def _glob(self, suffix: str, under: str | None) -> list[str]:
        """Files ending in ``suffix`` in every stream's day folders, or only under ``camera/stream``."""
        base = self.root / under if under else self.root
        if not base.is_dir():
            return []
        pattern = f"*/*{suffix}" if under else f"*/*/*/*{suffix}"
        return sorted(str(p.relative_to(self.root)) for p in base.glob(pattern) if p.is_file())

    def segment_files(self, under: str | None = None) -> list[str]:
        return self._glob(SEGMENT_SUFFIX, under)

    def part_files(self, under: str | None = None) -> list[str]:
        return self._glob(SEGMENT_SUFFIX + PART_SUFFIX, under)

    def usage(self) -> DiskUsage:
        self.root.mkdir(parents=True, exist_ok=True)
        total, used, free = shutil.disk_usage(self.root)
        return DiskUsage(total, used, free)
