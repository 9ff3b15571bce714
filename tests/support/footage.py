"""A recorded site for tests: real fMP4 segment files cut from a real H.264 clip, laid out under the storage root as
the recorder lays them out, catalogued in a real SQLite catalog (hashes and chain links included)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from support.node import node_config
from support.segments import cut_segments
from vigil.config.loader import parse_config
from vigil.config.models import Config
from vigil.domain.segment import Segment, SegmentInfo
from vigil.domain.segment_names import segment_relpath
from vigil.durable_files import sha256_file
from vigil.media.probe import probe_segment
from vigil.storage.catalog import SqlCatalog
from vigil.storage.segment_store import LocalSegmentStore
from vigil.wiring import Paths

T0 = 1_764_000_000_000_000  # 2025-11-24T16:00:00Z
S = 1_000_000


class SteppingClock:
    """A clock that stays where it is put (tests move it)."""

    def __init__(self, now_us: int) -> None:
        self.now = now_us

    def now_us(self) -> int:
        return self.now


@dataclass
class RecordedSite:
    config: Config
    config_path: Path
    paths: Paths
    catalog: SqlCatalog
    store: LocalSegmentStore
    segments: dict[str, list[Segment]]


def record_camera(
    catalog: SqlCatalog,
    store: LocalSegmentStore,
    clip: Path,
    work: Path,
    camera_id: str,
    start_us: int,
    *,
    seconds_per_segment: float = 2,
    gaps_us: tuple[int, ...] = (),
) -> list[Segment]:
    """Cut ``clip`` into segments starting at ``start_us`` and catalogue them as the recorder would (file first,
    then the row with its SHA-256, chained to the stream's last segment)."""
    parts = cut_segments(clip, work / f"cut-{camera_id}-{start_us}", seconds_per_segment, start_us, gaps_us=gaps_us)
    made = []
    for part in parts:
        relpath = segment_relpath(camera_id, "main", part.start_us)
        target = store.absolute(relpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(part.path, target)
        facts = probe_segment(target)
        info = SegmentInfo(
            camera_id=camera_id,
            stream="main",
            path=relpath,
            start_us=part.start_us,
            end_us=part.end_us,
            size_bytes=target.stat().st_size,
            sha256=sha256_file(target),
            codec=facts.codec,
            width=facts.width,
            height=facts.height,
            frame_count=facts.frame_count,
        )
        made.append(catalog.add_segment(info))
    return made


def recorded_site(work: Path, clip: Path, cameras: dict[str, dict[str, Any]], **sections: Any) -> RecordedSite:
    """A config with these cameras (each ``{"start_us": ..., "gaps_us": (...), "purpose": {...}, "retention":
    {...}}``), written to ``work/vigil.yaml``, and their footage recorded into the catalog beside ``recordings/``."""
    config, path = node_config(work, {cid: f"file:///{cid}.mp4" for cid in cameras}, **sections)
    doc = yaml.safe_load(path.read_text())
    for cam in doc["cameras"]:
        cam.update({k: v for k, v in cameras[cam["id"]].items() if k in ("purpose", "retention")})
    path.write_text(yaml.safe_dump(doc))
    config = parse_config(doc, str(path))
    paths = Paths.of(config, work)
    paths.root.mkdir(parents=True, exist_ok=True)
    catalog = SqlCatalog(paths.catalog_url)
    store = LocalSegmentStore(paths.root)
    segments = {
        cid: record_camera(catalog, store, clip, work, cid, spec.get("start_us", T0), gaps_us=spec.get("gaps_us", ()))
        for cid, spec in cameras.items()
    }
    return RecordedSite(config, path, paths, catalog, store, segments)
