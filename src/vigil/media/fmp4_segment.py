"""A segment file written by Vigil itself: fragmented MP4 from access units, no FFmpeg in the per-frame path.

The file is ``<start_us>.mp4.part`` while written: the init segment at once, then a fragment at every keyframe
and at least every second (``FRAGMENT_S``), each written with one ``write`` as soon as it is complete (when the
first access unit of the next one arrives, which gives its last sample's duration), so a killed process loses
at most about a second. SHA-256 is computed in C over exactly the bytes handed to the kernel, while writing: a
file whose every write succeeded and whose ``fsync`` succeeded holds those bytes, so this is the hash of what is
on disk without reading it back. :meth:`finish` writes the last fragment, fsyncs, renames, fsyncs the folder.
A write that fails leaves the ``.part`` file for salvage (``failed``), as with FFmpeg's writer.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
from pathlib import Path
from typing import Protocol

from vigil.domain.segment import SegmentInfo
from vigil.domain.segment_names import segment_relpath
from vigil.durable_files import part_path, publish_part
from vigil.media.fmp4_boxes import Sample, TrackFormat, fragment_header, init_segment
from vigil.media.rtsp.depacketizer import AccessUnit, CodecConfig

log = logging.getLogger(__name__)

FRAGMENT_S = 1.0


class SegmentPlace(Protocol):
    """Where a segment goes (``StreamSpec`` satisfies it)."""

    @property
    def camera_id(self) -> str: ...

    @property
    def stream(self) -> str: ...

    @property
    def root(self) -> Path: ...


class WrittenSegment(Protocol):
    """What both segment writers know of the segment they wrote."""

    place: SegmentPlace
    start_us: int
    codec: str
    width: int
    height: int
    frames: int


def segment_info(writer: WrittenSegment, relpath: str, end_us: int, size: int, digest: str) -> SegmentInfo:
    """The finished segment as the recorder reports it (never ending before it starts)."""
    return SegmentInfo(
        camera_id=writer.place.camera_id,
        stream=writer.place.stream,
        path=relpath,
        start_us=writer.start_us,
        end_us=max(end_us, writer.start_us + 1),
        size_bytes=size,
        sha256=digest,
        codec=writer.codec,
        width=writer.width,
        height=writer.height,
        frame_count=writer.frames,
    )


class Fmp4SegmentWriter:
    """One open segment file of access units. The first one written must be a keyframe."""

    def __init__(self, place: SegmentPlace, config: CodecConfig, timescale: int, start_us: int, start_dts: int) -> None:
        self.place = place
        self.config = config
        self.start_us = start_us  # provisional: settled by finish(); the part file keeps this name
        self.start_dts = start_dts
        self.codec, self.width, self.height = config.codec, config.width, config.height
        self.frames = 0
        self.failed = False
        self.size_bytes = 0
        self._fragment_ticks = int(FRAGMENT_S * timescale)
        self._sha256 = hashlib.sha256()
        self._sequence = 0
        self._samples: list[AccessUnit] = []
        self._last_duration = timescale // 25
        self.part = part_path(place.root / segment_relpath(place.camera_id, place.stream, start_us))
        self.part.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            self._write(init_segment(TrackFormat(config.codec, config.width, config.height, config.record, timescale)))
        except BaseException:
            self.abandon()
            raise

    def accepts(self, unit: AccessUnit) -> bool:
        """Whether ``unit`` fits this file's sample entry (parameter sets unchanged)."""
        return unit.config is self.config or unit.config.record == self.config.record

    def write(self, unit: AccessUnit) -> None:
        samples = self._samples
        if samples and (unit.is_keyframe or unit.dts - samples[0].dts >= self._fragment_ticks):
            self._flush(unit.dts)
        self._samples.append(unit)
        self.frames += 1

    def finish(self, end_us: int, start_us: int | None = None, end_dts: int | None = None) -> SegmentInfo:
        """Write the last fragment (its last sample lasts until ``end_dts``, or as long as the one before),
        fsync, publish under the name of its settled start time."""
        if self._samples:
            self._flush(end_dts)
        fd, self._fd = self._fd, -1
        os.close(fd)
        if start_us is not None:
            self.start_us = start_us
        relpath = segment_relpath(self.place.camera_id, self.place.stream, self.start_us)
        final = self.place.root / relpath
        final.parent.mkdir(parents=True, exist_ok=True)
        size, digest = publish_part(self.part, final, sha256=self._sha256.hexdigest())
        if size != self.size_bytes:  # what is on disk is not what was written: never publish a wrong hash
            log.error(
                "camera=%s: %s holds %d bytes, %d were written", self.place.camera_id, final, size, self.size_bytes
            )
            digest = ""
        return segment_info(self, relpath, end_us, size, digest)

    def abandon(self) -> None:
        """Close after a failure; the ``.part`` file stays for recovery to salvage."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                log.warning("camera=%s: could not close %s cleanly", self.place.camera_id, self.part)

    # --- fragments ---------------------------------------------------------------------------------------
    def _flush(self, next_dts: int | None) -> None:
        units, self._samples = self._samples, []
        samples: list[Sample] = []
        for unit, after in itertools.pairwise(units):
            samples.append(Sample(after.dts - unit.dts, unit.size, unit.is_keyframe, unit.pts - unit.dts))
        last = units[-1]
        if next_dts is not None and next_dts > last.dts:
            self._last_duration = next_dts - last.dts
        elif len(units) > 1:
            self._last_duration = samples[-1].duration
        samples.append(Sample(self._last_duration, last.size, last.is_keyframe, last.pts - last.dts))
        self._sequence += 1
        head = fragment_header(self._sequence, units[0].dts - self.start_dts, samples)
        self._write(b"".join([head, *(u.data for u in units)]))

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except BaseException:
            self.failed = True  # what reached the disk is unknown: salvage decides, not our counters
            raise
        self._sha256.update(data)
        self.size_bytes += len(data)
