"""What goes into an evidence package for one camera, and for its events.

Footage: the camera's segments overlapping the range are checked against the catalog first (the file is there,
its size and SHA-256 are the catalogued ones, so it is what the recorder wrote and chained); a segment that fails is
left out and named as a gap (``missing_file``, ``altered``), never joined into a signed clip. The good ones are
grouped into recorded spans and each span is remuxed into one clip. Every hole left is explained
(``vigil.domain.evidence_gaps``).

Events: every event of the cameras overlapping the range, with its snapshot copied in and checked against the
hash recorded with the event.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigil.domain.errors import NoFootage, StorageError
from vigil.domain.evidence import FootageGap, PackageClip, moment, safe_part, stamp
from vigil.domain.evidence_gaps import Unusable, explain_gaps
from vigil.domain.privacy import PictureTreatment
from vigil.domain.records import EventRecord, LedgerEntry
from vigil.domain.segment import Segment
from vigil.domain.timeline import recorded_spans
from vigil.ports import Catalog, ClipWriter, PackageBuilder, PictureTreater, SegmentStore

log = logging.getLogger(__name__)
EVENT_PAGE = 1000


@dataclass
class CameraFootage:
    camera_id: str
    clips: list[PackageClip] = field(default_factory=list)
    gaps: list[FootageGap] = field(default_factory=list)
    deletions: list[LedgerEntry] = field(default_factory=list)


def check_sources(store: SegmentStore, segments: Sequence[Segment]) -> tuple[list[Segment], list[Unusable]]:
    """The segments whose files are as catalogued, and the others with what is wrong."""
    good: list[Segment] = []
    bad: list[Unusable] = []
    for seg in segments:
        size = store.size(seg.path)
        if size is None:
            bad.append(Unusable(seg, "missing_file", "catalogued, but its file is gone from the disk"))
        elif size != seg.size_bytes or store.sha256(seg.path) != seg.sha256:
            detail = "its file no longer matches the SHA-256 recorded when it was written: left out, kept on disk"
            bad.append(Unusable(seg, "altered", detail))
        else:
            good.append(seg)
    return good, bad


def export_camera(
    catalog: Catalog,
    store: SegmentStore,
    write_clip: ClipWriter,
    package: PackageBuilder,
    camera_id: str,
    stream: str,
    start_us: int,
    end_us: int,
    treatment: PictureTreatment | None = None,
) -> CameraFootage:
    """Write the camera's clips into the package (re-encoded with ``treatment`` when it is not empty: privacy
    masks) and explain every hole between them."""
    out = CameraFootage(camera_id)
    good, bad = check_sources(store, catalog.segments(camera_id, stream, start_us, end_us))
    used: list[Segment] = []
    for span in recorded_spans(good):
        parts = [s for s in good if s.start_us < span.end_us and s.end_us > span.start_us]
        clip_start, clip_end = max(start_us, span.start_us), min(end_us, span.end_us)
        relpath = f"clips/{safe_part(camera_id)}/{safe_part(camera_id)}_{stream}_{stamp(clip_start)}.mp4"
        try:
            made = write_clip(
                [(store.local(s), s.start_us, s.end_us) for s in parts],
                clip_start,
                clip_end,
                package.path(relpath),
                treatment,
            )
        except (NoFootage, StorageError) as exc:
            log.warning("camera=%s: a recorded span could not be joined into a clip: %s", camera_id, exc.message)
            bad += [Unusable(s, "unreadable", f"its file could not be read: {exc.message}") for s in parts]
            continue
        out.clips.append(
            PackageClip(relpath, camera_id, stream, made.start_us, made.end_us, made.frame_count, tuple(parts))
        )
        used += parts
    out.deletions = catalog.deletions(camera_id, stream, start_us, end_us)
    recorded = catalog.gaps(camera_id, stream, start_us, end_us)
    spans = recorded_spans(used)
    out.gaps = explain_gaps(camera_id, stream, spans, start_us, end_us, recorded, out.deletions, bad)
    return out


def events_of(catalog: Catalog, camera_ids: Sequence[str], start_us: int, end_us: int) -> list[EventRecord]:
    """Every event of these cameras overlapping the range, oldest first (read a page at a time)."""
    found: list[EventRecord] = []
    cursor: tuple[int, int] | None = None
    while True:
        page = catalog.events(
            camera_ids=list(camera_ids),
            include_node_events=False,
            start_us=start_us,
            end_us=end_us,
            limit=EVENT_PAGE,
            before=cursor,
        )
        found += page
        if len(page) < EVENT_PAGE:
            return sorted(found, key=lambda e: (e.start_us, e.id))
        cursor = (page[-1].start_us, page[-1].id)


@dataclass(frozen=True)
class SnapshotTreatment:
    """How snapshots are treated on their way into a package: per camera (privacy masks), by ``treat``."""

    treat: PictureTreater | None = None
    per_camera: dict[str, PictureTreatment] = field(default_factory=dict)

    def of(self, camera_id: str | None) -> PictureTreatment:
        return self.per_camera.get(camera_id or "", PictureTreatment())


def event_records(
    events: Sequence[EventRecord],
    package: PackageBuilder,
    snapshots: Path | None,
    problems: list[str],
    treatment: SnapshotTreatment | None = None,
) -> list[dict[str, Any]]:
    """The events as records, their snapshots checked against their recorded hash and copied into the package
    (with the camera's privacy masks filled in when ``treatment`` says so: then ``snapshot_masked`` is true and
    the package's file is not the recorded one)."""
    treatment = treatment or SnapshotTreatment()
    records = []
    for event in events:
        record: dict[str, Any] = {
            "id": event.id,
            "type": event.type,
            "camera_id": event.camera_id,
            "stream": event.stream,
            **moment("start", event.start_us),
            **(moment("end", event.end_us) if event.end_us is not None else {"end_us": None, "end": None}),
            "description": event.description,
            "zone": event.zone,
            "labels": list(event.labels),
            "score": event.score,
            "data": event.data,
            "snapshot": None,
            "snapshot_masked": False,
        }
        relpath = str(event.data.get("snapshot") or "")
        if relpath:
            how = treatment.of(event.camera_id)
            record["snapshot"] = _snapshot(event, relpath, package, snapshots, problems, treatment.treat, how)
            record["snapshot_masked"] = bool(record["snapshot"]) and bool(how.masks)
        records.append(record)
    return records


def _snapshot(
    event: EventRecord,
    relpath: str,
    package: PackageBuilder,
    snapshots: Path | None,
    problems: list[str],
    treat: PictureTreater | None,
    how: PictureTreatment,
) -> str | None:
    source = (snapshots / relpath).resolve() if snapshots is not None else None
    if source is None or snapshots is None or not source.is_relative_to(snapshots.resolve()) or not source.is_file():
        problems.append(f"event {event.id}: its snapshot {relpath} is missing")
        return None
    data = source.read_bytes()
    recorded = event.data.get("snapshot_sha256")
    if recorded and recorded != hashlib.sha256(data).hexdigest():
        problems.append(f"event {event.id}: its snapshot no longer matches the SHA-256 recorded with the event")
    target = f"snapshots/{safe_part(event.camera_id or 'node')}/event-{event.id}.jpg"
    if how.empty:
        package.write(target, data)
    elif treat is None:  # never hand over a picture its masks should hide
        problems.append(f"event {event.id}: its snapshot was left out: privacy masks could not be applied")
        return None
    else:
        package.write(target, treat(data, how))
    return target
