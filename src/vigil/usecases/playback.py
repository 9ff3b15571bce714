"""Playback and export planning: which segment files cover a range, and the timeline of a window."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from vigil.config.models import Config
from vigil.domain.errors import InvalidRequest, NoFootage, NotFound
from vigil.domain.records import EventRecord
from vigil.domain.timeline import Span, TimelineGap, gaps_between, recorded_spans
from vigil.domain.timeutil import iso_from_us
from vigil.ports import Catalog, SegmentStore

MAX_CLIP_US = 6 * 3600 * 1_000_000


@dataclass(frozen=True, slots=True)
class ClipSource:
    """A segment of a clip: ``path`` names it (the hot disk's file), ``local()`` gives a file to read it from, on
    whichever tier holds it (an archived segment is fetched then, not before: ADR 0016)."""

    path: Path
    start_us: int
    end_us: int
    fetch: Callable[[], Path]

    def local(self) -> Path:
        return self.fetch()


@dataclass(frozen=True, slots=True)
class Timeline:
    camera_id: str
    stream: str
    start_us: int
    end_us: int
    spans: list[Span]
    gaps: list[TimelineGap]
    events: list[EventRecord] = field(default_factory=list)  # the camera's events overlapping the range


def require_camera(config: Config, camera_id: str) -> None:
    if config.camera(camera_id) is None:
        raise NotFound(f"no camera with id {camera_id!r}")


def validate_range(start_us: int, end_us: int, max_us: int = MAX_CLIP_US) -> None:
    if end_us <= start_us:
        raise InvalidRequest("the end of the range must be after its start")
    if end_us - start_us > max_us:
        raise InvalidRequest(f"the range is longer than {max_us // 3_600_000_000} hours; export it in parts")


def clip_sources(
    config: Config, catalog: Catalog, store: SegmentStore, camera_id: str, stream: str, start_us: int, end_us: int
) -> list[ClipSource]:
    require_camera(config, camera_id)
    validate_range(start_us, end_us)
    segments = catalog.segments(camera_id, stream, start_us, end_us)
    if not segments:
        raise NoFootage(
            f"camera {camera_id!r} has no recorded footage between {iso_from_us(start_us)} and {iso_from_us(end_us)}"
        )
    return [ClipSource(store.absolute(s.path), s.start_us, s.end_us, partial(store.local, s)) for s in segments]


TIMELINE_EVENTS = 1000  # the most events a timeline carries (the newest)


def timeline(config: Config, catalog: Catalog, camera_id: str, stream: str, start_us: int, end_us: int) -> Timeline:
    require_camera(config, camera_id)
    validate_range(start_us, end_us, max_us=31 * 86_400 * 1_000_000)
    spans = [
        Span(max(s.start_us, start_us), min(s.end_us, end_us), s.segment_count)
        for s in recorded_spans(catalog.segments(camera_id, stream, start_us, end_us))
    ]
    gaps = gaps_between(spans, catalog.gaps(camera_id, stream, start_us, end_us), start_us, end_us)
    events = catalog.events(camera_id=camera_id, start_us=start_us, end_us=end_us, limit=TIMELINE_EVENTS)
    return Timeline(camera_id, stream, start_us, end_us, spans, gaps, sorted(events, key=lambda e: e.start_us))
