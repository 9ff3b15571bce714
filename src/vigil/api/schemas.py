"""JSON shapes of the API (pydantic), built from domain records."""

from __future__ import annotations

from datetime import date
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from vigil.config.models import CameraConfig
from vigil.domain.records import EventRecord, HealthRow
from vigil.domain.segment import Segment
from vigil.domain.timeutil import iso_from_us
from vigil.usecases.events import EventFootage
from vigil.usecases.playback import Timeline
from vigil.usecases.status import StreamStatus
from vigil.usecases.tier_status import TierState

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list. Pass ``next_cursor`` back as ``cursor`` for the next page; null on the last."""

    items: list[T]
    next_cursor: str | None = Field(description="The cursor of the next page; null when this is the last.")


class HealthOut(BaseModel):
    camera_id: str
    stream: str
    state: str
    connected: bool
    since: str | None
    last_packet: str | None
    fps: float
    bitrate_kbps: float
    keyframe_interval_s: float
    repaired_packets: int
    error: str

    @classmethod
    def of(cls, status: StreamStatus) -> HealthOut:
        h: HealthRow | None = status.health
        return cls(
            camera_id=status.camera_id,
            stream=status.stream,
            state=status.state,
            connected=bool(h and h.connected and status.state == "recording"),
            since=iso_from_us(h.since_us) if h else None,
            last_packet=iso_from_us(h.last_packet_us) if h and h.last_packet_us else None,
            fps=h.fps if h else 0.0,
            bitrate_kbps=h.bitrate_kbps if h else 0.0,
            keyframe_interval_s=h.keyframe_interval_s if h else 0.0,
            repaired_packets=h.repaired_packets if h else 0,
            error=h.error if h else "",
        )


class CameraOut(BaseModel):
    id: str
    name: str
    site: str
    location: str
    enabled: bool
    record: bool
    main_url: str  # credentials redacted
    sub_url: str | None
    model: str | None
    serial: str | None
    installed: date | None
    notes: str | None
    health: HealthOut | None
    may: list[str] = Field(default_factory=list, description="What the caller may do on this camera")

    @classmethod
    def of(cls, cam: CameraConfig, status: StreamStatus | None, may: list[str] | None = None) -> CameraOut:
        return cls(
            id=cam.id,
            name=cam.name,
            site=cam.site,
            location=cam.location,
            enabled=cam.enabled,
            record=cam.record,
            main_url=cam.streams.main.display_url(),
            sub_url=cam.streams.sub.display_url() if cam.streams.sub else None,
            model=cam.device.model,
            serial=cam.device.serial,
            installed=cam.device.installed,
            notes=cam.device.notes,
            health=HealthOut.of(status) if status else None,
            may=may or [],
        )


class SegmentOut(BaseModel):
    id: int
    stream: str
    start_us: int
    end_us: int
    start: str
    end: str
    size_bytes: int
    sha256: str
    prev_sha256: str | None
    codec: str
    width: int
    height: int
    frame_count: int
    recovered: bool

    @classmethod
    def of(cls, s: Segment) -> SegmentOut:
        return cls(
            id=s.id,
            stream=s.stream,
            start_us=s.start_us,
            end_us=s.end_us,
            start=iso_from_us(s.start_us),
            end=iso_from_us(s.end_us),
            size_bytes=s.size_bytes,
            sha256=s.sha256,
            prev_sha256=s.prev_sha256,
            codec=s.codec,
            width=s.width,
            height=s.height,
            frame_count=s.frame_count,
            recovered=s.recovered,
        )


class SpanOut(BaseModel):
    start_us: int
    end_us: int
    segments: int


class GapOut(BaseModel):
    start_us: int
    end_us: int
    cause: str


class TimelineEventOut(BaseModel):
    id: int
    type: str
    start_us: int
    end_us: int | None  # None while it goes on


class TimelineOut(BaseModel):
    camera_id: str
    stream: str
    start_us: int
    end_us: int
    spans: list[SpanOut]
    gaps: list[GapOut]
    events: list[TimelineEventOut]

    @classmethod
    def of(cls, t: Timeline) -> TimelineOut:
        return cls(
            camera_id=t.camera_id,
            stream=t.stream,
            start_us=t.start_us,
            end_us=t.end_us,
            spans=[SpanOut(start_us=s.start_us, end_us=s.end_us, segments=s.segment_count) for s in t.spans],
            gaps=[GapOut(start_us=g.start_us, end_us=g.end_us, cause=g.cause) for g in t.gaps],
            events=[TimelineEventOut(id=e.id, type=e.type, start_us=e.start_us, end_us=e.end_us) for e in t.events],
        )


class EventOut(BaseModel):
    id: int
    type: str
    camera_id: str | None
    stream: str | None
    start_us: int
    end_us: int | None
    start: str
    zone: str | None  # the zone or line it happened in
    labels: list[str]  # the object labels involved, lower-case
    score: float | None  # the best detection score seen during the event
    description: str
    data: dict[str, object]
    reviewed: bool = False  # marked as reviewed by the user asking

    @classmethod
    def of(cls, e: EventRecord, reviewed: bool = False) -> EventOut:
        return cls(
            id=e.id,
            type=e.type,
            camera_id=e.camera_id,
            stream=e.stream,
            start_us=e.start_us,
            end_us=e.end_us,
            start=iso_from_us(e.start_us),
            zone=e.zone,
            labels=list(e.labels),
            score=e.score,
            description=e.description,
            data=e.data,
            reviewed=reviewed,
        )


class CapacityOut(BaseModel):
    capacity_bytes: int
    used_bytes: int
    bytes_per_day: float
    days_of_capacity: float | None
    days_required: float
    ok: bool
    summary: str


class CopyLagOut(BaseModel):
    cameras: list[str]
    lag_s: float = Field(description="Now minus the end of the oldest footage of these cameras not yet copied.")


class TierOut(BaseModel):
    name: str = Field(description="hot: the local disk under storage.root; else a tier of storage.tiers.")
    kind: str = Field(description="hot, s3 or local.")
    where: str
    segments: int
    size_bytes: int
    days_kept: float = Field(description="From the oldest footage it holds to now.")
    days_required: float | None = Field(description="What the rules ask it to keep (none: nothing asked).")
    short: bool = Field(description="Keeps fewer days than required (so is a node younger than that).")
    problem: str = Field(description="Empty when the tier answered; else what is wrong.")
    copy_lags: list[CopyLagOut]
    damaged: int = Field(description="Copies found damaged (by the scrub or a reader) and not yet healed.")
    unchecked_days: float = Field(description="Days since the object read back longest ago was last read back whole.")

    @classmethod
    def of(cls, tier: TierState) -> TierOut:
        lags = [CopyLagOut(cameras=list(lag.cameras), lag_s=lag.lag_s) for lag in tier.copy_lags]
        return cls(
            name=tier.name,
            kind=tier.kind,
            where=tier.where,
            segments=tier.segments,
            size_bytes=tier.size_bytes,
            days_kept=tier.days_kept,
            days_required=tier.days_required,
            short=tier.short,
            problem=tier.problem,
            copy_lags=lags,
            damaged=tier.damaged,
            unchecked_days=tier.unchecked_days,
        )


class EventFootageOut(BaseModel):
    event: EventOut
    start_us: int
    end_us: int
    segments: list[SegmentOut]
    clip_url: str | None  # the footage as one MP4 (None when nothing was recorded then)

    @classmethod
    def of(cls, f: EventFootage) -> EventFootageOut:
        cam = f.event.camera_id
        url = f"/api/v1/cameras/{cam}/clip.mp4?start={f.start_us}&end={f.end_us}" if cam and f.segments else None
        return cls(
            event=EventOut.of(f.event),
            start_us=f.start_us,
            end_us=f.end_us,
            segments=[SegmentOut.of(s) for s in f.segments],
            clip_url=url,
        )
