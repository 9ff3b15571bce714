"""One stream's recorder: copies packets into fragmented MP4 segments, never decoding.

A segment starts on a keyframe and ends at the first keyframe after ``segment_duration`` has passed (or at a
keyframe whose parameter sets differ from the segment's). Packet timestamps are repaired (see
:mod:`vigil.domain.timestamps`) before muxing, and mapped to wall-clock time by
:class:`vigil.domain.wallclock.WallClockMapper` (never later than arrival; drift corrected at segment boundaries).
Packets come from Vigil's RTSP reader or from FFmpeg's (:mod:`vigil.media.recording_sources`).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from vigil.domain.errors import SourceError
from vigil.domain.reports import HealthSample, Message, SegmentClosed, StreamDown, StreamUp
from vigil.domain.segment import GapCause, SegmentInfo
from vigil.domain.timestamps import Repair, TimestampRepairer
from vigil.domain.wallclock import WallClockMapper
from vigil.media.recording_sources import FRAG_OPTIONS, RecordingSource, SegmentSink, open_recording_source
from vigil.media.rtsp.messages import UnsupportedStream
from vigil.media.sources import classify_error
from vigil.media.stream_stats import StreamStats
from vigil.ports import Clock

log = logging.getLogger(__name__)

__all__ = ["FRAG_OPTIONS", "MAX_UNDATED", "StreamRecorder", "StreamSpec"]
DRIFT_LIMIT_US = 1_000_000
RESUME_FREE_BYTES = 1 << 20  # after a full disk, reconnect once this much is free
RESUME_CONFIRM_S = 1.0  # after a stall, packets must flow this long before the stream counts as back
FALLBACK_RETRY_S = 1.0  # a second try of FFmpeg's reader this long after Vigil's found the stream unsupported
MAX_UNDATED = 50  # packets without timestamps held at the start of a connection, at most


@dataclass(frozen=True, slots=True)
class StreamSpec:
    camera_id: str
    stream: str
    url: str  # with credentials: never log it
    display_url: str
    root: Path
    segment_duration_s: float = 60.0
    rtsp_transport: str = "tcp"
    rtsp_reader: str = "vigil"  # "vigil": Vigil's reader and writer for RTSP over TCP; "ffmpeg": FFmpeg's (PyAV)
    timeout_s: float = 10.0
    reconnect_initial_s: float = 1.0
    reconnect_max_s: float = 30.0
    health_interval_s: float = 2.0


class StreamRecorder:
    def __init__(self, spec: StreamSpec, emit: Callable[[Message], None], clock: Clock) -> None:
        self.spec = spec
        self._emit = emit
        self._clock = clock
        self.stats = StreamStats()
        self._last_end = 0  # end of the last published segment: the next one never starts before it
        self._up = False  # StreamUp was reported for the current connection
        # The stall watchdog (another thread) reads these: a connection that stays open while no video arrives
        # (the camera's encoder hung; RTCP keeps the socket alive) blocks the read without any timeout firing.
        self._receiving = False  # inside a connection, past its first packet
        self._last_seen = 0.0  # monotonic time of the last packet
        self._stalled = False  # reported down by the watchdog; packets flowing again resume the stream
        self._resumed_at: float | None = None  # when packets started flowing again after a stall
        self._ffmpeg_fallback = False  # the stream is one Vigil's reader does not take
        self._source: RecordingSource | None = None
        self._lost_before = self._dropped_before = 0  # losses of the connections before this one
        self._losses_reported = (0, 0)

    def check_stall(self, now: float) -> None:
        """Called by the worker's watchdog thread: report the stream down once when no packet has come for the
        socket timeout although the connection is still open. The recording thread resumes it when packets
        come again (a new segment starts at the next keyframe)."""
        spec = self.spec
        if not self._receiving or self._stalled or now - self._last_seen < spec.timeout_s:
            return
        self._stalled = True
        detail = f"no video for {spec.timeout_s:g} s although the connection stays open"
        at = self.stats.last_packet_us or self._clock.now_us()
        log.warning("camera=%s stream=%s: down (timeout): %s", spec.camera_id, spec.stream, detail)
        self._emit(StreamDown(spec.camera_id, spec.stream, at, GapCause.TIMEOUT, detail))
        self._emit_health(connected=False, error=detail)

    # --- the outer loop: connect, record, back off -------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Connect, record, and on any failure report the stream down (once per outage) and retry with
        back-off. After a full disk it waits for room before connecting again."""
        spec = self.spec
        delay = spec.reconnect_initial_s
        down_reported = False
        while not stop.is_set():
            self._up = False
            cause, detail = self._connection(stop)
            stalled, self._stalled, self._resumed_at = self._stalled, False, None
            if cause is None:
                return
            if stalled:  # the watchdog already reported this outage
                down_reported = True
            elif self._up or not down_reported:
                at = self.stats.last_packet_us or self._clock.now_us()
                log.warning("camera=%s stream=%s: down (%s): %s", spec.camera_id, spec.stream, cause, detail)
                self._emit(StreamDown(spec.camera_id, spec.stream, at, cause, detail))
                self._emit_health(connected=False, error=detail)
                down_reported = True
            else:
                log.debug("camera=%s stream=%s: still down (%s): %s", spec.camera_id, spec.stream, cause, detail)
            if self._up:
                delay = spec.reconnect_initial_s
            if cause is GapCause.DISK_FULL and self._wait_for_room(stop, delay):
                return
            if stop.wait(delay):
                return
            delay = min(delay * 2, spec.reconnect_max_s)

    def _connection(self, stop: threading.Event) -> tuple[GapCause | None, str]:
        """One connection, start to end: why it ended, or (None, "") when asked to stop."""
        try:
            source = self._open(stop)
            try:
                self._record(source, stop)
            finally:
                self._lost_before, self._dropped_before = self._losses(source)
                self._source = None
                source.close()
        except SourceError as exc:
            return GapCause(exc.cause), exc.message
        except Exception as exc:
            return classify_error(exc)
        if stop.is_set():
            return None, ""
        return GapCause.STREAM_ENDED, "the source closed the stream"

    def _open(self, stop: threading.Event) -> RecordingSource:
        """Vigil's reader unless configured otherwise or the stream is one it does not take (then FFmpeg's,
        for as long as this recorder runs)."""
        spec = self.spec
        vigil_reader = spec.rtsp_reader == "vigil" and not self._ffmpeg_fallback
        try:
            source = self._open_source(vigil_reader, stop)
        except UnsupportedStream as exc:
            log.warning(
                "camera=%s stream=%s: %s; recording through FFmpeg's reader", spec.camera_id, spec.stream, exc.message
            )
            self._ffmpeg_fallback = True
            try:
                source = self._open_source(False, stop)
            except (SourceError, OSError):
                # a camera may still be tearing down what our DESCRIBE prepared (GStreamer answers 503): once more
                if stop.wait(FALLBACK_RETRY_S):
                    raise
                source = self._open_source(False, stop)
        self._source = source
        return source

    def _open_source(self, vigil_reader: bool, stop: threading.Event) -> RecordingSource:
        spec = self.spec
        return open_recording_source(
            spec.url,
            display_url=spec.display_url,
            transport=spec.rtsp_transport,
            timeout_s=spec.timeout_s,
            vigil_reader=vigil_reader,
            stop=stop,
        )

    def _losses(self, source: RecordingSource | None) -> tuple[int, int]:
        """(RTP packets lost, frames dropped) since this recorder started."""
        lost, dropped = source.losses() if source is not None else (0, 0)
        return self._lost_before + lost, self._dropped_before + dropped

    def _wait_for_room(self, stop: threading.Event, poll_s: float) -> bool:
        """Wait until the recording volume has room again; True when asked to stop meanwhile."""
        while shutil.disk_usage(self.spec.root).free < RESUME_FREE_BYTES:
            if stop.wait(poll_s):
                return True
        return False

    # --- one connection ---------------------------------------------------------------------------
    def _record(self, source: RecordingSource, stop: threading.Event) -> None:
        """Record until the source fails (raises) or ``stop`` is set."""
        spec, tb = self.spec, source.time_base
        rate = source.frame_rate or 25
        frame_ticks = max(1, round(1 / (Fraction(rate) * tb)))
        frame_us = int(frame_ticks * tb * 1_000_000)
        repairer = TimestampRepairer(frame_ticks, max_jump_ticks=max(frame_ticks, round(10 / tb)))
        mapper = WallClockMapper(float(tb * 1_000_000), DRIFT_LIMIT_US)
        writer: SegmentSink | None = None
        connected, last_wall, next_health = False, 0, 0
        segment_us = int(spec.segment_duration_s * 1e6)
        try:
            for packet in self._dated(source.packets(), frame_ticks):
                if stop.is_set():
                    break
                seen, previous = time.monotonic(), self._last_seen
                self._last_seen = seen
                if self._stalled:  # packets again after the watchdog reported the video gone
                    if self._resumed_at is None or seen - previous > RESUME_CONFIRM_S:
                        # (a stray packet or two released by the demuxer is no return: they are recorded, but
                        # the stream counts as back only once packets have flowed for RESUME_CONFIRM_S)
                        self._resumed_at = seen
                        if writer is not None:  # what came before is a segment of its own
                            self._emit(SegmentClosed(self._finish(writer, mapper, last_wall + frame_us)))
                            writer = None
                    elif seen - self._resumed_at >= RESUME_CONFIRM_S:
                        self._stalled, self._resumed_at = False, None
                        self._emit(StreamUp(spec.camera_id, spec.stream, self._clock.now_us()))
                        log.info("camera=%s stream=%s: video again after a stall", spec.camera_id, spec.stream)
                self._receiving = True
                fixed = repairer.repair(packet.dts, packet.pts)
                packet.dts, packet.pts = fixed.dts, fixed.pts
                if not connected:
                    connected = self._up = True
                    self._emit(StreamUp(spec.camera_id, spec.stream, self._clock.now_us()))
                    log.info("camera=%s stream=%s: connected to %s", spec.camera_id, spec.stream, spec.display_url)
                if source.loop and self._pace(mapper, fixed.dts, stop):
                    break
                now = self._clock.now_us()
                wall = mapper.wall(fixed.dts, now)
                if packet.is_keyframe and (
                    writer is None or wall - self._start_of(writer, mapper) >= segment_us or not writer.accepts(packet)
                ):
                    writer = self._rotate(writer, mapper, fixed.dts, source, packet)
                last_wall = wall
                if writer is None:
                    continue  # wait for the first keyframe
                media_us = int(fixed.dts * mapper.us_per_tick)
                self.stats.add(media_us, now, packet.size, packet.is_keyframe, fixed.repair is not Repair.NONE)
                writer.write(packet)
                if now >= next_health:
                    self._emit_health(connected=not self._stalled)
                    next_health = now + int(spec.health_interval_s * 1e6)
        except BaseException:
            if writer is not None:
                self._close_after_failure(writer, mapper, last_wall + frame_us)
            raise
        finally:
            self._receiving = False
        if writer is not None:
            self._emit(SegmentClosed(self._finish(writer, mapper, last_wall + frame_us)))

    def _pace(self, mapper: WallClockMapper, dts: int, stop: threading.Event) -> bool:
        """Hold a simulation file's packet until its time comes; True when stopped meanwhile."""
        if mapper.started:
            delay_us = mapper.mapped(dts) - self._clock.now_us()
            if delay_us > 0:
                return stop.wait(delay_us / 1e6)
        return False

    def _start_of(self, writer: SegmentSink, mapper: WallClockMapper) -> int:
        """The segment's start with the current anchor (it moves back while the connect burst drains), never
        before the end of the segment before it."""
        return max(mapper.mapped(writer.start_dts), self._last_end)

    def _finish(
        self, writer: SegmentSink, mapper: WallClockMapper, end_us: int, end_dts: int | None = None
    ) -> SegmentInfo:
        """Publish a segment with its start settled, never overlapping the segment before it."""
        start = self._start_of(writer, mapper)
        info = writer.finish(max(end_us, start + 1), start_us=start, end_dts=end_dts)
        self._last_end = info.end_us
        return info

    def _rotate(
        self, writer: SegmentSink | None, mapper: WallClockMapper, dts: int, source: RecordingSource, first: Any
    ) -> SegmentSink:
        if writer is not None:
            self._emit(SegmentClosed(self._finish(writer, mapper, mapper.mapped(dts), end_dts=dts)))
        start = max(mapper.segment_boundary(dts), self._last_end)
        return source.open_writer(self.spec, first, start, dts)

    @staticmethod
    def _dated(packets: Iterator[Any], frame_ticks: int) -> Iterator[Any]:
        """Packets before the first one with a timestamp (RTSP often sends the first keyframe without) are held
        and dated backwards from it, one frame apart, instead of being given an arbitrary origin."""
        held: list[Any] = []
        for packet in packets:
            if packet.dts is None and packet.pts is None and len(held) < MAX_UNDATED:
                held.append(packet)
                continue
            if held:
                origin = packet.dts if packet.dts is not None else packet.pts
                if origin is None:  # a source with no timestamps at all: the repairer numbers frames
                    yield from held
                    yield packet
                    yield from packets
                    return
                for k, early in enumerate(held):
                    early.dts = early.pts = origin - (len(held) - k) * frame_ticks
                    yield early
                held = []
            yield packet
            yield from packets
            return

    def _close_after_failure(self, writer: SegmentSink, mapper: WallClockMapper, end_us: int) -> None:
        """The source failed: publish the segment as recorded so far. A write that failed leaves the part file
        for salvage (its frames are counted from what is readable on disk, never from what was sent)."""
        if writer.failed:
            writer.abandon()
            return
        try:
            self._emit(SegmentClosed(self._finish(writer, mapper, end_us)))
        except Exception:
            writer.abandon()

    def _emit_health(self, connected: bool, error: str = "") -> None:
        now = self._clock.now_us()
        s = self.stats.snapshot(now)
        lost, dropped = self._losses(self._source)
        if (lost, dropped) != self._losses_reported:
            log.warning(
                "camera=%s stream=%s: %d RTP packets lost, %d frames dropped so far (damaged pictures and what "
                "depends on them are never written)",
                self.spec.camera_id,
                self.spec.stream,
                lost,
                dropped,
            )
            self._losses_reported = (lost, dropped)
        self._emit(
            HealthSample(
                self.spec.camera_id,
                self.spec.stream,
                now,
                connected,
                self.stats.last_packet_us,
                s.fps,
                s.bitrate_kbps,
                s.keyframe_interval_s,
                self.stats.repaired,
                error,
                lost_packets=lost,
                dropped_frames=dropped,
            )
        )
