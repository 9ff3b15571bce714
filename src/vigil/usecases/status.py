"""What ``vigil status``, ``vigil cameras`` and ``GET /api/health`` show: per-stream health and capacity."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.config.models import Config
from vigil.domain.capacity import CapacityForecast
from vigil.domain.records import EventRecord, HealthRow
from vigil.ports import Catalog, Clock, SegmentStore
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
class SiteStatus:
    now_us: int
    streams: list[StreamStatus]
    capacity: CapacityForecast
    used_bytes: int
    open_problems: list[EventRecord]


def stream_state(row: HealthRow | None, now_us: int) -> str:
    if row is None:
        return "unknown"
    if now_us - row.updated_us > STALE_US:
        return "not_running"
    return "recording" if row.connected else "offline"


def site_status(config: Config, catalog: Catalog, store: SegmentStore, clock: Clock) -> SiteStatus:
    now = clock.now_us()
    health = {(h.camera_id, h.stream): h for h in catalog.health()}
    streams = []
    for cam in config.cameras:
        row = health.get((cam.id, "main"))
        state = stream_state(row, now) if cam.enabled and cam.record else "disabled"
        streams.append(StreamStatus(cam.id, "main", state, row, 0))
    problems = [e for e in catalog.events(types=["camera_offline", CAPACITY_EVENT], limit=200) if e.end_us is None]
    return SiteStatus(now, streams, measure_capacity(config, catalog, store, now), catalog.total_bytes(), problems)
