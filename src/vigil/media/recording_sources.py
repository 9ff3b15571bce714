"""What the recorder reads from and writes to, for each of its two paths.

- **Vigil's reader** (the default for ``rtsp://`` and ``rtsps://`` over TCP): :mod:`vigil.media.rtsp` reads the
  camera and hands over access units, :class:`vigil.media.fmp4_segment.Fmp4SegmentWriter` writes them. No FFmpeg
  in the per-packet path.
- **FFmpeg's reader and muxer through PyAV**: ``file://`` simulation sources, ``recording.rtsp_reader: ffmpeg``,
  UDP transport, and streams Vigil's reader does not take (codecs other than H.264 / H.265).

Both give the recorder a :class:`RecordingSource` (packets with ``dts``, ``pts``, ``is_keyframe``, ``size``) and
open :class:`SegmentSink` files for it; the recorder's loop (timestamp repair, wall clock, segments) is shared.
"""

from __future__ import annotations

import errno
import logging
import shutil
import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

import av

from vigil.domain.errors import StorageError
from vigil.domain.segment import SegmentInfo
from vigil.domain.segment_names import segment_relpath
from vigil.durable_files import part_path, publish_part
from vigil.media.fmp4_segment import Fmp4SegmentWriter, SegmentPlace, segment_info
from vigil.media.probe import probe_segment
from vigil.media.rtsp.depacketizer import AccessUnit
from vigil.media.rtsp.source import RtspVideoSource, open_rtsp
from vigil.media.sources import OpenedSource, open_source

log = logging.getLogger(__name__)
LOW_SPACE = 1 << 20  # a volume with less free is full: a short segment is the disk's doing

# Fragmented MP4: a fragment at every keyframe and at least every second, each flushed to the file at once
# (without flush_packets FFmpeg keeps fragments in its output buffer, and a killed process loses them).
FRAG_OPTIONS = {
    "movflags": "frag_keyframe+empty_moov+default_base_moof",
    "frag_duration": "1000000",
    "flush_packets": "1",
}


class SegmentSink(Protocol):
    """One open segment file."""

    start_us: int
    start_dts: int
    part: Path
    failed: bool
    frames: int

    def accepts(self, packet: Any) -> bool: ...

    def write(self, packet: Any) -> None: ...

    def finish(self, end_us: int, start_us: int | None = None, end_dts: int | None = None) -> SegmentInfo: ...

    def abandon(self) -> None: ...


class RecordingSource(Protocol):
    loop: bool  # a simulation file: paced at real time, rewound at its end
    time_base: Fraction
    frame_rate: Fraction | None

    def packets(self) -> Iterator[Any]: ...

    def open_writer(self, place: SegmentPlace, first: Any, start_us: int, start_dts: int) -> SegmentSink: ...

    def losses(self) -> tuple[int, int]:
        """(RTP packets lost, frames dropped because of losses or damage) on this connection so far."""
        ...

    def close(self) -> None: ...


# --- FFmpeg through PyAV ---------------------------------------------------------------------------------
class PyavSegmentWriter:
    """One segment file muxed by FFmpeg: ``<start_us>.mp4.part`` until :meth:`finish` publishes it."""

    def __init__(self, place: SegmentPlace, template: Any, start_us: int, start_dts: int) -> None:
        self.place = place
        self.start_us = start_us  # provisional: settled by finish(); the part file keeps this name
        self.start_dts = start_dts
        self.part = part_path(place.root / segment_relpath(place.camera_id, place.stream, start_us))
        self.part.parent.mkdir(parents=True, exist_ok=True)
        self.failed = False
        # FFmpeg writes the file itself: a Python file object would put an interpreter call on every 32 KB write.
        self._out = av.open(str(self.part), "w", format="mp4", options=FRAG_OPTIONS)
        self._stream = self._out.add_stream_from_template(template)
        self.codec = str(template.codec_context.name)
        self.width = int(template.codec_context.width or 0)
        self.height = int(template.codec_context.height or 0)
        self.frames = 0

    def accepts(self, packet: Any) -> bool:
        return True

    def write(self, packet: Any) -> None:
        packet.stream = self._stream
        try:
            self._out.mux(packet)
        except BaseException:
            self.failed = True  # what reached the disk is unknown: salvage decides, not our counters
            raise
        self.frames += 1

    def finish(self, end_us: int, start_us: int | None = None, end_dts: int | None = None) -> SegmentInfo:
        """Close, fsync and publish under the name of its settled start time (hashed from the page cache).

        FFmpeg's close does not report a failed last write (the volume full while the final fragment is flushed):
        the frames that reached the disk are counted from the file, and a segment short of what was written is left
        for salvage (``failed``, an error as from a write), so the catalog never claims frames the disk lacks."""
        self._out.close()
        on_disk = _frames_in(self.part)
        if on_disk < self.frames:
            self.failed = True
            full = shutil.disk_usage(self.part.parent).free < LOW_SPACE
            raise OSError(
                errno.ENOSPC if full else errno.EIO,
                f"{self.part}: only {on_disk} of {self.frames} frames reached the disk",
            )
        if start_us is not None:
            self.start_us = start_us
        relpath = segment_relpath(self.place.camera_id, self.place.stream, self.start_us)
        final = self.place.root / relpath
        final.parent.mkdir(parents=True, exist_ok=True)
        size, digest = publish_part(self.part, final)
        return segment_info(self, relpath, end_us, size, digest)

    def abandon(self) -> None:
        try:
            self._out.close()
        except Exception:
            log.warning("camera=%s: could not close %s cleanly", self.place.camera_id, self.part, exc_info=True)


class PyavRecordingSource:
    def __init__(self, opened: OpenedSource) -> None:
        self.opened = opened
        self.loop = opened.loop
        stream = opened.stream
        self.time_base = Fraction(stream.time_base)
        rate = stream.average_rate or stream.guessed_rate
        self.frame_rate = Fraction(rate) if rate else None

    def packets(self) -> Iterator[Any]:
        return self.opened.packets()

    def open_writer(self, place: SegmentPlace, first: Any, start_us: int, start_dts: int) -> SegmentSink:
        return PyavSegmentWriter(place, self.opened.stream, start_us, start_dts)

    def losses(self) -> tuple[int, int]:
        return 0, 0  # FFmpeg's reader does not say

    def close(self) -> None:
        self.opened.close()


# --- Vigil's reader ---------------------------------------------------------------------------------------
class RtspRecordingSource:
    def __init__(self, source: RtspVideoSource) -> None:
        self.source = source
        self.loop = False
        self.time_base = source.time_base
        self.frame_rate = source.frame_rate

    def packets(self) -> Iterator[AccessUnit]:
        return self.source.packets()

    def open_writer(self, place: SegmentPlace, first: AccessUnit, start_us: int, start_dts: int) -> SegmentSink:
        return Fmp4SegmentWriter(place, first.config, self.source.track.clock_rate, start_us, start_dts)

    def losses(self) -> tuple[int, int]:
        stats = self.source.stats
        return stats.lost_packets, stats.dropped_units

    def close(self) -> None:
        self.source.close()


def open_recording_source(
    url: str, *, display_url: str, transport: str, timeout_s: float, vigil_reader: bool, stop: threading.Event
) -> RecordingSource:
    """Vigil's reader for RTSP over TCP when asked for, else FFmpeg's. :class:`UnsupportedStream` from Vigil's
    reader (a codec it does not take) is left to the caller, which falls back to FFmpeg's."""
    if vigil_reader and transport == "tcp" and url.lower().startswith(("rtsp://", "rtsps://")):
        return RtspRecordingSource(open_rtsp(url, display_url=display_url, timeout_s=timeout_s, stop=stop))
    opened = open_source(url, display_url=display_url, rtsp_transport=transport, timeout_s=timeout_s)
    return PyavRecordingSource(opened)


def _frames_in(path: Path) -> int:
    """Frames readable in a segment file just written (packets, not decoded; 0 when it cannot be read at all)."""
    try:
        return probe_segment(path).frame_count
    except StorageError:
        return 0
