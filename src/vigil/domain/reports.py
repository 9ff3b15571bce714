"""What recorder and analysis workers tell the main process (small metadata only; frames never cross this way)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
class StreamStopped:
    """A worker stopped one of its streams because the main process asked (a settings change); its last segment
    (or analysis event) has been reported before this."""

    camera_id: str
    stream: str
    at_us: int


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
    lost_packets: int = 0  # RTP packets missing from the stream since the recorder started (Vigil's reader)
    dropped_frames: int = 0  # pictures not written because they were damaged or depended on a damaged one


@dataclass(frozen=True, slots=True)
class AnalysisEvent:
    """Something the analysis saw. ``end_us`` None: it goes on until an :class:`AnalysisEventEnd` with the same
    camera and ``key`` (one open event per key and camera, e.g. ``motion`` or ``fault:black``)."""

    camera_id: str
    stream: str
    key: str
    type: str  # the event type: motion, fault, or a rule's kind
    start_us: int
    end_us: int | None
    description: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AnalysisEventEnd:
    camera_id: str
    key: str
    end_us: int
    description: str = ""  # replaces the event's description when given (e.g. with the duration)
    score: float | None = None  # the best score over the event's life, when it has one


@dataclass(frozen=True, slots=True)
class DetectorUp:
    """The detector process has its model loaded and takes requests."""

    at_us: int


Message = (
    SegmentClosed | StreamUp | StreamDown | StreamStopped | HealthSample | AnalysisEvent | AnalysisEventEnd | DetectorUp
)
