"""Where a segment can be read (ADR 0016): the hot file, or a copy fetched from the first tier that holds a
verified one into a bounded read cache (least recently used out first), its SHA-256 checked against the catalog
before anyone reads it. A copy that comes back damaged or missing is marked so and the next tier is tried. It is the
:class:`vigil.ports.SegmentStore` of a node with tiers (the hot disk's methods are the local store's)."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from vigil.domain.errors import StorageError
from vigil.domain.segment import Segment
from vigil.domain.tiers import HOT, CopyState
from vigil.durable_files import part_path, publish_part, sha256_file
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
        self.on_damage: Callable[[str, Segment, str], None] | None = None  # a reader found a copy damaged (the scrub)
        self.now_us: Callable[[], int] = lambda: int(time.time() * 1e6)  # the node's clock (set by the runtime)

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
        return self._cached(seg)[0]

    def _cached(self, seg: Segment) -> tuple[Path, str]:
        """The segment in the read cache (fetched from the first tier with a verified copy unless already there),
        and where it came from."""
        cached = self.cache / seg.path
        while True:
            with self._lock:
                if cached.is_file():
                    os.utime(cached)  # recently used
                    return cached, "the read cache"
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

    def _fetch(self, seg: Segment, cached: Path) -> tuple[Path, str]:
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
                    self._damaged(seg, copy.id, copy.tier, "missing when read")
                continue
            if digest != seg.sha256:
                part.unlink(missing_ok=True)
                note = f"read back with SHA-256 {digest[:16]}..., not {seg.sha256[:16]}..."
                self._damaged(seg, copy.id, copy.tier, note)
                log.error("tier %s: %s is damaged (%s); trying another copy", copy.tier, seg.path, note)
                problems.append(f"tier {copy.tier!r}: {seg.path} is damaged")
                continue
            part.replace(cached)
            self.fetches += 1
            self._trim(keep=cached)
            return cached, f"tier {copy.tier!r}"
        why = "; ".join(problems) or "no verified copy on any tier"
        raise StorageError(f"segment {seg.path} cannot be read: {why}")

    def _damaged(self, seg: Segment, copy_id: int, tier: str, note: str) -> None:
        self.copies.mark(copy_id, CopyState.DAMAGED, self.now_us(), note)
        if self.on_damage is not None:
            try:
                self.on_damage(tier, seg, note)
            except Exception:  # the reader goes on to the next copy whatever the listener does
                log.exception("reporting the damaged copy of %s failed", seg.path)

    def good_copy(self, seg: Segment, besides: str) -> tuple[Path, str] | None:
        """A local file holding the segment whole (its SHA-256 checked now) from anywhere but ``besides``: the hot
        file, the read cache or another tier's verified copy; and where it came from. None when there is none."""
        if besides != HOT and seg.hot:
            path = self.hot.absolute(seg.path)
            if path.is_file() and sha256_file(path) == seg.sha256:
                return path, "the hot disk"
        cached = self.cache / seg.path
        if cached.is_file() and sha256_file(cached) != seg.sha256:
            cached.unlink(missing_ok=True)  # the cache is no source if it went bad too
        try:
            return self._cached(seg)
        except StorageError as exc:
            log.warning("no good copy of %s to heal it from: %s", seg.path, exc.message)
            return None

    def restore_hot(self, seg: Segment, source: Path) -> None:
        """Put a good copy (``source``, checked here against the catalog's SHA-256) back as the hot file."""
        final = self.hot.absolute(seg.path)
        final.parent.mkdir(parents=True, exist_ok=True)
        part = part_path(final)
        try:
            shutil.copyfile(source, part)
            digest = sha256_file(part)
            if digest != seg.sha256:
                raise StorageError(f"{source} is not a good copy of {seg.path} (SHA-256 {digest[:16]}...)")
            publish_part(part, final, digest)
        except OSError as exc:
            raise StorageError(f"cannot restore {seg.path} on the hot disk: {exc.strerror}") from None
        finally:
            part.unlink(missing_ok=True)

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
