"""Turn what recorder workers report into catalog rows: segments, gaps, offline/online events, health."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from vigil.domain.describe import duration_words
from vigil.domain.records import HealthRow
from vigil.domain.reports import HealthSample, Message, SegmentClosed, StreamDown, StreamUp
from vigil.domain.segment import GapCause
from vigil.domain.timeutil import iso_from_us
from vigil.ports import Catalog

log = logging.getLogger(__name__)

OFFLINE, ONLINE = "camera_offline", "camera_online"


# Called when a stream comes back after going down at ``down_us``: salvage what its abandoned writer left.
ResumeHook = Callable[[str, str, int], None]


class RecorderReports:
    def __init__(self, catalog: Catalog, on_resume: ResumeHook | None = None) -> None:
        self._catalog = catalog
        self._on_resume = on_resume
        self._state: dict[tuple[str, str], tuple[bool, int]] = {}  # (camera, stream) -> (connected, since_us)
        self._down_at: dict[tuple[str, str], int] = {}

    def mark_process_down(self, streams: Iterable[tuple[str, str]], now_us: int) -> None:
        """At start-up (or after a worker died): the time since each stream's last segment is a gap."""
        for camera_id, stream in streams:
            last = self._catalog.last_segment(camera_id, stream)
            if last is not None:
                self._catalog.open_gap(
                    camera_id, stream, last.end_us, GapCause.PROCESS_DOWN, "Vigil's recorder was not running"
                )
            self._state[(camera_id, stream)] = (False, now_us)

    def mark_stopped(self, stream: tuple[str, str], now_us: int, cause: GapCause, detail: str) -> None:
        """A recorder stopped on purpose (a settings change): the time from its last segment is a gap."""
        last = self._catalog.last_segment(*stream)
        self._catalog.open_gap(*stream, last.end_us if last is not None else now_us, cause, detail)
        self._state[stream] = (False, now_us)

    def handle(self, msg: Message) -> None:
        if isinstance(msg, SegmentClosed):
            # the gap ends where footage resumes (the first segment may start before the connection was
            # reported: packets buffered at connect are dated back to when they were captured)
            # ... unless it is the segment the outage cut short (it began before the gap), or the stream is still
            # down (a few stray packets after a stall were recorded, but the video has not come back yet)
            key = (msg.info.camera_id, msg.info.stream)
            gap = self._catalog.open_gap_of(*key)
            still_down = key in self._state and not self._state[key][0]
            if gap is None or (msg.info.start_us >= gap.start_us and not still_down):
                self._catalog.close_gap(msg.info.camera_id, msg.info.stream, msg.info.start_us)
            self._catalog.add_segment(msg.info)
        elif isinstance(msg, StreamUp):
            self._up(msg)
        elif isinstance(msg, StreamDown):
            self._down(msg)
        elif isinstance(msg, HealthSample):
            self._health(msg)

    def _up(self, msg: StreamUp) -> None:
        self._state[(msg.camera_id, msg.stream)] = (True, msg.at_us)
        down_at = self._down_at.pop((msg.camera_id, msg.stream), None)
        if down_at is not None and self._on_resume is not None:
            self._on_resume(msg.camera_id, msg.stream, down_at + 1)
        gap = self._catalog.open_gap_of(msg.camera_id, msg.stream)
        offline = self._catalog.open_event(OFFLINE, msg.camera_id)
        if offline is not None and offline.stream == msg.stream:
            self._catalog.end_event(offline.id, msg.at_us)
        if gap is not None:
            downtime_s = (msg.at_us - gap.start_us) / 1e6
            self._catalog.add_event(
                ONLINE,
                msg.at_us,
                f"Camera {msg.camera_id} ({msg.stream}) back online at {iso_from_us(msg.at_us)} after "
                f"{duration_words(downtime_s)} without recording ({gap.cause}).",
                camera_id=msg.camera_id,
                stream=msg.stream,
                end_us=msg.at_us,
                data={
                    "downtime_s": round(downtime_s, 3),
                    "cause": str(gap.cause),
                    "gap_start_us": gap.start_us,
                },
            )

    def _down(self, msg: StreamDown) -> None:
        self._state[(msg.camera_id, msg.stream)] = (False, msg.at_us)
        self._down_at[(msg.camera_id, msg.stream)] = msg.at_us
        last = self._catalog.last_segment(msg.camera_id, msg.stream)
        start = min(last.end_us, msg.at_us) if last is not None and last.end_us > msg.at_us - 120_000_000 else msg.at_us
        self._catalog.open_gap(msg.camera_id, msg.stream, start, msg.cause, msg.detail)
        offline = self._catalog.open_event(OFFLINE, msg.camera_id)
        if offline is None or offline.stream != msg.stream:
            self._catalog.add_event(
                OFFLINE,
                start,
                f"Camera {msg.camera_id} ({msg.stream}) offline since {iso_from_us(start)}: {msg.detail}.",
                camera_id=msg.camera_id,
                stream=msg.stream,
                data={"cause": str(msg.cause), "detail": msg.detail},
            )

    def _health(self, msg: HealthSample) -> None:
        key = (msg.camera_id, msg.stream)
        connected, since = self._state.get(key, (msg.connected, msg.at_us))
        if connected != msg.connected:
            connected, since = msg.connected, msg.at_us
            self._state[key] = (connected, since)
        self._catalog.upsert_health(
            HealthRow(
                camera_id=msg.camera_id,
                stream=msg.stream,
                connected=msg.connected,
                since_us=since,
                updated_us=msg.at_us,
                last_packet_us=msg.last_packet_us,
                fps=msg.fps,
                bitrate_kbps=msg.bitrate_kbps,
                keyframe_interval_s=msg.keyframe_interval_s,
                repaired_packets=msg.repaired_packets,
                error=msg.error,
            )
        )
