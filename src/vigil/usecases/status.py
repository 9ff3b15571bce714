"""What ``vigil status``, ``vigil cameras`` and ``GET /api/health`` show: per-stream health and capacity."""

from __future__ import annotations

from dataclasses import dataclass, field

from vigil.config.models import Config
from vigil.domain.capacity import CapacityForecast
from vigil.domain.holds import LegalHold
from vigil.domain.records import EventRecord, HealthRow
from vigil.ports import Catalog, Clock, LegalHolds, SegmentStore
from vigil.usecases.retention import CAPACITY_EVENT, measure_capacity

STALE_US = 15_000_000


@dataclass(frozen=True, slots=True)
class StreamStatus:
    camera_id: str
    stream: str
    state: str  # recording | offline | not_running | disabled | unknown
    health: HealthRow | None
    recorded_bytes: int


@dataclass(frozen=True, slots=True)
class HeldFootage:
    """An active legal hold and the recorded footage it keeps from retention."""

    hold: LegalHold
    segments: int
    size_bytes: int


@dataclass(frozen=True, slots=True)
class SiteStatus:
    now_us: int
    streams: list[StreamStatus]
    capacity: CapacityForecast
    used_bytes: int
    open_problems: list[EventRecord]
    held: list[HeldFootage] = field(default_factory=list)


def held_footage(catalog: Catalog, holds: LegalHolds) -> list[HeldFootage]:
    """Every active hold with the segments (of the main stream) it keeps."""
    found = []
    for hold in holds.active():
        segments = catalog.segments(hold.camera_id, "main", hold.start_us, hold.end_us)
        found.append(HeldFootage(hold, len(segments), sum(s.size_bytes for s in segments)))
    return found


def stream_state(row: HealthRow | None, now_us: int) -> str:
    if row is None:
        return "unknown"
    if now_us - row.updated_us > STALE_US:
        return "not_running"
    return "recording" if row.connected else "offline"


def site_status(
    config: Config, catalog: Catalog, store: SegmentStore, clock: Clock, holds: LegalHolds | None = None
) -> SiteStatus:
    now = clock.now_us()
    health = {(h.camera_id, h.stream): h for h in catalog.health()}
    streams = []
    for cam in config.cameras:
        row = health.get((cam.id, "main"))
        state = stream_state(row, now) if cam.enabled and cam.record else "disabled"
        streams.append(StreamStatus(cam.id, "main", state, row, 0))
    problems = [e for e in catalog.events(types=["camera_offline", CAPACITY_EVENT], limit=200) if e.end_us is None]
    held = held_footage(catalog, holds) if holds is not None else []
    capacity = measure_capacity(config, catalog, store, now)
    return SiteStatus(now, streams, capacity, catalog.total_bytes(), problems, held)
