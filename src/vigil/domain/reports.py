"""What recorder workers tell the main process (small metadata only; frames never cross this way)."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.domain.segment import GapCause, SegmentInfo


@dataclass(frozen=True, slots=True)
class SegmentClosed:
    info: SegmentInfo


@dataclass(frozen=True, slots=True)
class StreamUp:
    camera_id: str
    stream: str
    at_us: int  # wall time of the first packet


@dataclass(frozen=True, slots=True)
class StreamDown:
    camera_id: str
    stream: str
    at_us: int  # wall time of the last packet (or of the failed attempt)
    cause: GapCause
    detail: str


@dataclass(frozen=True, slots=True)
class HealthSample:
    camera_id: str
    stream: str
    at_us: int
    connected: bool
    last_packet_us: int | None
    fps: float
    bitrate_kbps: float
    keyframe_interval_s: float
    repaired_packets: int
    error: str = ""


Message = SegmentClosed | StreamUp | StreamDown | HealthSample
