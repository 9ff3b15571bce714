"""Segments, recordings and gaps: what the recorder leaves on disk, as facts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

STREAMS = ("main", "sub")  # the streams a camera records (storage and catalog: every stream of a camera)


class GapCause(StrEnum):
    """Why a stream was not recorded for a while. One word per cause, the same in SQL, API and UI."""

    UNREACHABLE = "unreachable"  # connection refused, no route, DNS
    AUTH_FAILED = "auth_failed"  # 401 from the camera
    TIMEOUT = "timeout"  # no packets within the socket timeout
    STREAM_ENDED = "stream_ended"  # the source closed the stream
    STREAM_ERROR = "stream_error"  # the source sent something we could not read
    PROCESS_DOWN = "process_down"  # Vigil itself was not running
    DISK_FULL = "disk_full"  # the segment could not be written
    TIMESTAMP_JUMP = "timestamp_jump"  # the source's clock jumped; cut and resumed
    RECONFIGURED = "reconfigured"  # the stream was restarted for a settings change
    DISABLED = "disabled"  # the camera was removed, disabled or set not to record in the settings


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """A finished segment file as the recorder reports it (before it has a catalog id)."""

    camera_id: str
    stream: str
    path: str  # relative to the storage root
    start_us: int
    end_us: int
    size_bytes: int
    sha256: str
    codec: str
    width: int
    height: int
    frame_count: int
    recovered: bool = False

    @property
    def duration_us(self) -> int:
        return self.end_us - self.start_us


@dataclass(frozen=True, slots=True)
class Segment:
    """A catalogued segment. ``prev_sha256`` links it into its stream's hash chain."""

    id: int
    camera_id: str
    stream: str
    path: str
    start_us: int
    end_us: int
    size_bytes: int
    sha256: str
    prev_sha256: str | None
    codec: str
    width: int
    height: int
    frame_count: int
    recovered: bool
    hot: bool = True  # still on the hot disk; False: only on storage tiers (ADR 0016)
    event_footage: bool | None = None  # an event in or near it (lifecycle rules by kind); None: not yet looked at

    @property
    def duration_us(self) -> int:
        return self.end_us - self.start_us


@dataclass(frozen=True, slots=True)
class Gap:
    camera_id: str
    stream: str
    start_us: int
    end_us: int | None  # None while the gap is still open
    cause: GapCause
    detail: str = ""
