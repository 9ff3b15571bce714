"""One stream's recorder: copies packets into fragmented MP4 segments, never decoding.

A segment starts on a keyframe and ends at the first keyframe after ``segment_duration`` has passed. Packet
timestamps are repaired (see :mod:`vigil.domain.timestamps`) before muxing. Wall-clock times come from an
anchor taken at the first packet of each connection, advanced by packet timestamps, and re-anchored at a
segment boundary when the two drift apart by more than a second.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from vigil.domain.errors import SourceError
from vigil.domain.reports import HealthSample, Message, SegmentClosed, StreamDown, StreamUp
from vigil.domain.segment import GapCause, SegmentInfo
from vigil.domain.segment_names import segment_relpath
from vigil.domain.timestamps import Repair, TimestampRepairer
from vigil.durable_files import part_path, publish_part
from vigil.media.sources import OpenedSource, classify_error, open_source
from vigil.media.stream_stats import StreamStats
from vigil.ports import Clock

log = logging.getLogger(__name__)

# Fragmented MP4: a fragment at every keyframe and at least every second, each flushed to the file at once
# (without flush_packets FFmpeg keeps fragments in its output buffer, and a killed process loses them).
FRAG_OPTIONS = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "frag_duration": "1000000",
    "flush_packets": "1",
}
DRIFT_LIMIT_US = 1_000_000


@dataclass(frozen=True, slots=True)
class StreamSpec:
    camera_id: str
    stream: str
    url: str  # with credentials: never log it
    display_url: str
    root: Path
    segment_duration_s: float = 60.0
    rtsp_transport: str = "tcp"
    timeout_s: float = 10.0
    reconnect_initial_s: float = 1.0
    reconnect_max_s: float = 30.0
    health_interval_s: float = 2.0


class SegmentWriter:
    """One open segment file: ``<start_us>.mp4.part`` until :meth:`finish` publishes it."""

    def __init__(self, spec: StreamSpec, template: Any, start_us: int) -> None:
        self.spec = spec
        self.start_us = start_us
        self.relpath = segment_relpath(spec.camera_id, spec.stream, start_us)
        self.final = spec.root / self.relpath
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.part = part_path(self.final)
        self._out = av.open(str(self.part), "w", format="mp4", options=FRAG_OPTIONS)
        self._stream = self._out.add_stream_from_template(template)
        self.codec = str(template.codec_context.name)
        self.width = int(template.codec_context.width or 0)
        self.height = int(template.codec_context.height or 0)
        self.frames = 0

    def write(self, packet: Any) -> None:
        packet.stream = self._stream
        self._out.mux(packet)
        self.frames += 1

    def finish(self, end_us: int) -> SegmentInfo:
        self._out.close()
        size, digest = publish_part(self.part, self.final)
        return SegmentInfo(
            camera_id=self.spec.camera_id,
            stream=self.spec.stream,
            path=self.relpath,
            start_us=self.start_us,
            end_us=max(end_us, self.start_us + 1),
            size_bytes=size,
            sha256=digest,
            codec=self.codec,
            width=self.width,
            height=self.height,
            frame_count=self.frames,
        )

    def abandon(self) -> None:
        """Close after a failure; the ``.part`` file stays for recovery to salvage."""
        try:
            self._out.close()
        except Exception:
            log.warning("camera=%s: could not close %s cleanly", self.spec.camera_id, self.part, exc_info=True)


class StreamRecorder:
    def __init__(self, spec: StreamSpec, emit: Callable[[Message], None], clock: Clock) -> None:
        self.spec = spec
        self._emit = emit
        self._clock = clock
        self.stats = StreamStats()

    # --- the outer loop: connect, record, back off -------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        spec = self.spec
        delay = spec.reconnect_initial_s
        down_reported = False
        while not stop.is_set():
            started = False
            try:
                source = open_source(
                    spec.url,
                    display_url=spec.display_url,
                    rtsp_transport=spec.rtsp_transport,
                    timeout_s=spec.timeout_s,
                )
                try:
                    started = self._record(source, stop)
                finally:
                    source.close()
                if stop.is_set():
                    return
                cause, detail = GapCause.STREAM_ENDED, "the source closed the stream"
            except SourceError as exc:
                cause, detail = GapCause(exc.cause), exc.message
            except Exception as exc:
                cause, detail = classify_error(exc)
            if started or not down_reported:
                at = self.stats.last_packet_us or self._clock.now_us()
                log.warning("camera=%s stream=%s: down (%s): %s", spec.camera_id, spec.stream, cause, detail)
                self._emit(StreamDown(spec.camera_id, spec.stream, at, cause, detail))
                self._emit_health(connected=False, error=detail)
                down_reported = True
            if started:
                delay = spec.reconnect_initial_s
            if stop.wait(delay):
                return
            delay = min(delay * 2, spec.reconnect_max_s)

    # --- one connection ---------------------------------------------------------------------------
    def _record(self, source: OpenedSource, stop: threading.Event) -> bool:
        """Record until the source fails (raises) or ``stop`` is set. Returns whether any packet came."""
        spec, tb = self.spec, Fraction(source.stream.time_base)
        rate = source.stream.average_rate or source.stream.guessed_rate or 25
        frame_ticks = max(1, round(1 / (Fraction(rate) * tb)))
        repairer = TimestampRepairer(frame_ticks, max_jump_ticks=max(frame_ticks, round(10 / tb)))
        us_per_tick = tb * 1_000_000
        anchor_wall = anchor_dts = 0
        writer: SegmentWriter | None = None
        last_wall = 0
        segment_us = int(spec.segment_duration_s * 1e6)
        next_health = 0
        try:
            for packet in source.packets():
                if stop.is_set():
                    break
                fixed = repairer.repair(packet.dts, packet.pts)
                packet.dts, packet.pts = fixed.dts, fixed.pts
                now = self._clock.now_us()
                if writer is None and last_wall == 0:
                    anchor_wall, anchor_dts = now, fixed.dts
                    self._emit(StreamUp(spec.camera_id, spec.stream, now))
                    log.info("camera=%s stream=%s: connected to %s", spec.camera_id, spec.stream, spec.display_url)
                wall = anchor_wall + int((fixed.dts - anchor_dts) * us_per_tick)
                if source.loop and wall > now and stop.wait((wall - now) / 1e6):
                    break  # a simulation file is paced at real time
                if packet.is_keyframe and (writer is None or wall - writer.start_us >= segment_us):
                    if abs(wall - now) > DRIFT_LIMIT_US and not source.loop:
                        anchor_wall, anchor_dts = max(now, last_wall + 1), fixed.dts
                        wall = anchor_wall
                    if writer is not None:
                        self._emit(SegmentClosed(writer.finish(wall)))
                    writer = SegmentWriter(spec, source.stream, wall)
                if writer is None:
                    last_wall = wall
                    continue  # wait for the first keyframe
                self.stats.add(wall, packet.size, packet.is_keyframe, fixed.repair is not Repair.NONE)
                writer.write(packet)
                last_wall = wall
                if now >= next_health:
                    self._emit_health(connected=True)
                    next_health = now + int(spec.health_interval_s * 1e6)
        except BaseException:
            if writer is not None:
                self._close_after_failure(writer, last_wall + int(frame_ticks * us_per_tick))
            raise
        if writer is not None:
            self._emit(SegmentClosed(writer.finish(last_wall + int(frame_ticks * us_per_tick))))
        return last_wall != 0

    def _close_after_failure(self, writer: SegmentWriter, end_us: int) -> None:
        try:
            self._emit(SegmentClosed(writer.finish(end_us)))
        except Exception:
            writer.abandon()

    def _emit_health(self, connected: bool, error: str = "") -> None:
        now = self._clock.now_us()
        s = self.stats.snapshot(now)
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
            )
        )
