"""Start-up recovery: salvage segments that were being written when the process died, and catalogue finished
files that never got their row (the process died between rename and insert). Nothing readable is lost."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from vigil.domain.errors import StorageError
from vigil.domain.segment import SegmentInfo
from vigil.domain.segment_names import PART_SUFFIX, parse_segment_name
from vigil.ports import Catalog, ProbeFn, SalvageFn, SegmentFacts, SegmentStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    salvaged: list[str]
    adopted: list[str]
    discarded: list[str]  # partial files with not one readable frame


def segment_info(store: SegmentStore, relpath: str, facts: SegmentFacts, recovered: bool) -> SegmentInfo | None:
    """The catalog row of a segment file found on disk (times from its name and its readable frames)."""
    parsed = parse_segment_name(Path(relpath))
    if parsed is None:
        return None
    camera_id, stream, start_us = parsed
    return SegmentInfo(
        camera_id=camera_id,
        stream=stream,
        path=relpath,
        start_us=start_us,
        end_us=start_us + max(1, facts.duration_us),
        size_bytes=store.size(relpath) or 0,
        sha256=store.sha256(relpath),
        codec=facts.codec,
        width=facts.width,
        height=facts.height,
        frame_count=facts.frame_count,
        recovered=recovered,
    )


def recover(
    catalog: Catalog,
    store: SegmentStore,
    salvage: SalvageFn,
    probe: ProbeFn,
    streams: set[tuple[str, str]] | None = None,
    before_us: int | None = None,
) -> RecoveryReport:
    """Recover every stream (start-up), or only ``streams`` (a worker died while others keep recording), or
    only parts that started before ``before_us`` (a stream that resumed: its new part is being written).
    Only the folders of the streams concerned are read, and only recent catalog rows."""
    report = RecoveryReport([], [], [])
    folders: list[str | None] = [None] if streams is None else [f"{cam}/{stream}" for cam, stream in sorted(streams)]
    found: dict[str, SegmentInfo] = {}
    for folder in folders:
        for part in store.part_files(folder):
            parsed = parse_segment_name(Path(part))
            if parsed is None or (before_us is not None and parsed[2] >= before_us):
                continue
            final = part.removesuffix(PART_SUFFIX)
            facts = salvage(store.absolute(part), store.absolute(final))
            store.delete(part)
            if facts is None:
                log.warning("camera=%s: %s held no readable frame; removed", parsed[0], part)
                report.discarded.append(part)
                continue
            info = segment_info(store, final, facts, recovered=True)
            if info is not None:
                found[final] = info
                report.salvaged.append(final)
    if before_us is None:
        for folder in folders:
            _adopt_recent(catalog, store, probe, folder, found, report)
    for info in sorted(found.values(), key=lambda i: i.start_us):
        catalog.add_segment(info)
        log.info("camera=%s: catalogued recovered segment %s", info.camera_id, info.path)
    return report


def _adopt_recent(
    catalog: Catalog,
    store: SegmentStore,
    probe: ProbeFn,
    folder: str | None,
    found: dict[str, SegmentInfo],
    report: RecoveryReport,
) -> None:
    """Finished files newer than their stream's last row (the process died between rename and insert).
    Older stray files are ``vigil check``'s business, not start-up's."""
    recent: dict[tuple[str, str], tuple[int, set[str]]] = {}
    for relpath in store.segment_files(folder):
        parsed = parse_segment_name(Path(relpath))
        if parsed is None or relpath in found:
            continue
        key = (parsed[0], parsed[1])
        if key not in recent:
            last = catalog.last_segment(*key)
            floor = last.end_us - 1_000_000 if last is not None else -(2**62)
            recent[key] = (floor, {s.path for s in catalog.segments(*key, start_us=floor)} if last else set())
        floor, known = recent[key]
        if parsed[2] < floor or relpath in known:
            continue
        try:
            info = segment_info(store, relpath, probe(store.absolute(relpath)), recovered=False)
        except StorageError:
            continue
        if info is not None:
            found[relpath] = info
            report.adopted.append(relpath)
