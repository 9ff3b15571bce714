"""Where a segment can be read (ADR 0016): the hot file, or a copy fetched from the first tier that holds a
verified one into a bounded read cache (least recently used out first), its SHA-256 checked against the catalog
before anyone reads it. A copy that comes back damaged or missing is marked so and the next tier is tried. It is the
:class:`vigil.ports.SegmentStore` of a node with tiers (the hot disk's methods are the local store's)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from vigil.domain.errors import StorageError
from vigil.domain.segment import Segment
from vigil.domain.tiers import HOT, CopyState
from vigil.ports import DiskUsage, SegmentCopyStore, Tier
from vigil.storage.segment_store import LocalSegmentStore

log = logging.getLogger(__name__)


class TieredFiles:
    def __init__(
        self,
        hot: LocalSegmentStore,
        copies: SegmentCopyStore,
        tiers: Mapping[str, Tier],
        cache: Path,
        cache_bytes: int,
    ) -> None:
        self.hot, self.copies, self.tiers, self.cache, self.cache_bytes = hot, copies, tiers, cache, cache_bytes
        self._lock = threading.Lock()
        self._fetching: dict[str, threading.Event] = {}
        self.fetches = 0  # copies fetched from a tier (benchmarks, tests)

    # --- the hot disk (SegmentStore) -------------------------------------------------------------------------------
    def absolute(self, relpath: str) -> Path:
        return self.hot.absolute(relpath)

    def size(self, relpath: str) -> int | None:
        return self.hot.size(relpath)

    def sha256(self, relpath: str) -> str:
        return self.hot.sha256(relpath)

    def delete(self, relpath: str) -> None:
        self.hot.delete(relpath)
        (self.cache / relpath).unlink(missing_ok=True)

    def segment_files(self, under: str | None = None) -> list[str]:
        return self.hot.segment_files(under)

    def part_files(self, under: str | None = None) -> list[str]:
        return self.hot.part_files(under)

    def usage(self) -> DiskUsage:
        return self.hot.usage()

    # --- any tier --------------------------------------------------------------------------------------------------
    def local(self, seg: Segment) -> Path:
        """A file to read the segment from: the hot one, or a verified copy fetched into the read cache."""
        if seg.hot:
            path = self.hot.absolute(seg.path)
            if path.is_file() or not self.copies.copies(seg.id):
                return path  # (a missing file without copies: the reader says it is missing, as before tiers)
            log.warning("%s is gone from the hot disk; reading its copy on a tier (vigil check --repair)", seg.path)
        cached = self.cache / seg.path
        while True:
            with self._lock:
                if cached.is_file():
                    os.utime(cached)  # recently used
                    return cached
                busy = self._fetching.get(seg.path)
                if busy is None:
                    self._fetching[seg.path] = threading.Event()
                    break
            busy.wait(120)  # another reader is fetching the same segment
        try:
            return self._fetch(seg, cached)
        finally:
            with self._lock:
                self._fetching.pop(seg.path).set()

    def _fetch(self, seg: Segment, cached: Path) -> Path:
        problems: list[str] = []
        cached.parent.mkdir(parents=True, exist_ok=True)
        for copy in self.copies.copies(seg.id):
            tier = self.tiers.get(copy.tier)
            if tier is None or copy.state is not CopyState.VERIFIED:
                continue
            part = cached.with_name(cached.name + f".{threading.get_ident()}.part")
            try:
                digest = tier.fetch(copy.key, part)
            except StorageError as exc:
                part.unlink(missing_ok=True)
                problems.append(exc.message)
                if "is missing" in exc.message:
                    self.copies.mark(copy.id, CopyState.DAMAGED, int(time.time() * 1e6), "missing when read")
                continue
            if digest != seg.sha256:
                part.unlink(missing_ok=True)
                note = f"read back with SHA-256 {digest[:16]}..., not {seg.sha256[:16]}..."
                self.copies.mark(copy.id, CopyState.DAMAGED, int(time.time() * 1e6), note)
                log.error("tier %s: %s is damaged (%s); trying another copy", copy.tier, seg.path, note)
                problems.append(f"tier {copy.tier!r}: {seg.path} is damaged")
                continue
            part.replace(cached)
            self.fetches += 1
            self._trim(keep=cached)
            return cached
        why = "; ".join(problems) or "no verified copy on any tier"
        raise StorageError(f"segment {seg.path} cannot be read: {why}")

    def _trim(self, keep: Path) -> None:
        """Keep the read cache under its size: the least recently used files go first."""
        files = [p for p in self.cache.rglob("*") if p.is_file() and not p.name.endswith(".part")]
        total = sum(p.stat().st_size for p in files)
        for path in sorted(files, key=lambda p: p.stat().st_mtime):
            if total <= self.cache_bytes:
                break
            if path == keep:
                continue
            total -= path.stat().st_size
            path.unlink(missing_ok=True)

    def erase(self, seg: Segment) -> list[str]:
        """Delete the segment from the hot disk (if there) and every tier; the tiers it was deleted from."""
        self.hot.delete(seg.path)  # a released segment's file may be left by a node stopped mid-release
        gone: list[str] = [HOT] if seg.hot else []
        for copy in self.copies.copies(seg.id):
            tier = self.tiers.get(copy.tier)
            if tier is None:
                raise StorageError(f"segment {seg.path} has a copy on tier {copy.tier!r}, which is not configured")
            tier.delete(copy.key)
            gone.append(copy.tier)
        self.copies.forget(seg.id)
        (self.cache / seg.path).unlink(missing_ok=True)
        return gone
