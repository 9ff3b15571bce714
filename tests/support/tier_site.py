"""A site with two folder tiers (``nas``, ``usb``) on a real SQLite catalog and real files, with a fake clock: the
mover's and the scrub's tests build their footage on it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from support.node import node_config
from vigil.domain.segment import SegmentInfo
from vigil.storage.catalog import SqlCatalog, sqlite_url
from vigil.storage.local_tier import LocalTier
from vigil.storage.segment_copies import SqlSegmentCopies
from vigil.storage.segment_store import LocalSegmentStore
from vigil.storage.tiered_files import TieredFiles
from vigil.usecases.mover import Mover, Throttle
from vigil.usecases.scrub import Scrubber

S = 1_000_000
DAY = 86_400 * S
T0 = 1_780_000_000 * S


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def now_us(self) -> int:
        return self.now


class Site:
    def __init__(self, tmp: Path, storage: dict) -> None:
        (tmp / "nas").mkdir()
        (tmp / "usb").mkdir()
        tiers = [{"name": "nas", "kind": "local", "path": str(tmp / "nas")},
                 {"name": "usb", "kind": "local", "path": str(tmp / "usb")}]  # fmt: skip
        self.config, _ = node_config(
            tmp, {"gate": "rtsp://10.0.0.5/1", "yard": "rtsp://10.0.0.6/1"}, storage={"tiers": tiers, **storage}
        )
        self.clock = Clock()
        self.catalog = SqlCatalog(sqlite_url(tmp / "vigil.db"))
        self.hot = LocalSegmentStore(tmp / "recordings")
        self.copies = SqlSegmentCopies(self.catalog)
        self.tiers = {"nas": LocalTier("nas", tmp / "nas"), "usb": LocalTier("usb", tmp / "usb")}
        self.files = TieredFiles(self.hot, self.copies, self.tiers, tmp / "tier-cache", 10 * 2**20)
        self.mover = Mover(
            self.catalog, self.copies, self.files, self.tiers, self.clock, lambda: self.config, Throttle(lambda: 0)
        )
        self.scrub = Scrubber(
            self.catalog, self.copies, self.files, self.tiers, self.clock, lambda: self.config, Throttle(lambda: 0)
        )
        self.files.on_damage = self.scrub.damaged
        self.files.now_us = self.clock.now_us

    def segment(self, camera: str, start_s: float, size: int = 4096):
        start = T0 + int(start_s * S)
        rel = f"{camera}/main/2026-06-01/{start}.mp4"
        data = os.urandom(size)
        path = self.hot.absolute(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        info = SegmentInfo(camera, "main", rel, start, start + 10 * S, size, hashlib.sha256(data).hexdigest(),
                           "h264", 640, 360, 100)  # fmt: skip
        return self.catalog.add_segment(info), data

    def seg(self, segment_id: int):
        return self.catalog.segment(segment_id)
