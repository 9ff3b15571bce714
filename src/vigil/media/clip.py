"""Joining recorded segments into one playable MP4, by remuxing only (packets are copied, never decoded).

A clip starts on the keyframe at or before the requested start and ends before the first packet whose
decode time reaches the requested end. Each part's packets are placed on the clip's timeline from the
part's catalogued ``start_us`` (its first packet is that instant), so a gap between two parts becomes a
jump in the clip's timeline rather than being squeezed out.

:class:`RemuxWriter` is the one place that writes MP4 files from copied packets: a temp file in the
target folder, timestamps repaired so the muxer never sees a non-increasing DTS, fsync, then rename.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import pairwise
from pathlib import Path
from types import TracebackType

import av
from av.container import InputContainer
from av.packet import Packet
from av.video.stream import VideoStream

from vigil.domain.errors import InvalidRequest, NoFootage, StorageError
from vigil.durable_files import fsync_dir, fsync_file

logger = logging.getLogger(__name__)

FRAGMENTED_MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
FASTSTART_MOVFLAGS = "+faststart"
_US = 1_000_000
_READ_ERRORS = (av.FFmpegError, OSError)


@dataclass(frozen=True)
class ClipPart:
    """One recorded segment file and the wall-clock span (UTC microseconds) it covers."""

    path: Path
    start_us: int
    end_us: int
    fetch: Callable[[], Path] | None = None  # gives the file to read when it is needed (an archived segment)

    def local(self) -> Path:
        return self.fetch() if self.fetch is not None else self.path


@dataclass(frozen=True)
class ClipResult:
    """What :func:`write_clip` wrote. ``start_us`` is the keyframe the clip really starts on."""

    path: Path
    start_us: int
    end_us: int
    frame_count: int
    size_bytes: int
    parts_used: int
    gaps: list[tuple[int, int]]


class RemuxWriter:
    """Writes copied packets of one video stream into an MP4, published atomically by :meth:`commit`.

    Timestamps are given in seconds (exact fractions) and rounded to the muxer's time base here; a DTS
    that does not increase is nudged one tick forward (and the PTS with it) so the muxer never refuses.
    Used as a context manager, the temp file is removed unless :meth:`commit` was called.
    """

    def __init__(self, out_path: Path, template: VideoStream, *, fragmented: bool) -> None:
        self.out_path = out_path
        self._tmp = out_path.with_name(f".{out_path.name}.{os.getpid()}.tmp")
        movflags = FRAGMENTED_MOVFLAGS if fragmented else FASTSTART_MOVFLAGS
        try:
            self._container = av.open(str(self._tmp), "w", format="mp4", options={"movflags": movflags})
            self._stream = self._container.add_stream_from_template(template)
            self._container.start_encoding()
        except _READ_ERRORS as exc:
            self._tmp.unlink(missing_ok=True)
            raise StorageError(f"cannot write {out_path}: {exc}") from exc
        self._time_base = self._stream.time_base or Fraction(1, 90_000)
        self._last_dts: int | None = None
        self._open = True
        self.frame_count = 0
        self.nudged = 0

    def write(self, packet: Packet[VideoStream], pts_s: Fraction | None, dts_s: Fraction, duration_s: Fraction) -> None:
        """Mux ``packet`` at the given times (seconds on the output's timeline)."""
        dts = round(dts_s / self._time_base)
        pts = dts if pts_s is None else round(pts_s / self._time_base)
        if self._last_dts is not None and dts <= self._last_dts:
            dts = self._last_dts + 1
            self.nudged += 1
        packet.dts, packet.pts = dts, max(pts, dts)
        packet.duration = max(0, round(duration_s / self._time_base))
        packet.time_base = self._time_base
        packet.stream = self._stream
        try:
            self._container.mux_one(packet)
        except _READ_ERRORS as exc:
            raise StorageError(f"cannot write {self.out_path}: {exc}") from exc
        self._last_dts = dts
        self.frame_count += 1

    def commit(self) -> int:
        """Finish the file, fsync it, rename it to ``out_path`` and return its size in bytes."""
        try:
            self._close()
            fsync_file(self._tmp)
            self._tmp.replace(self.out_path)
            fsync_dir(self.out_path.parent)
        except _READ_ERRORS as exc:
            raise StorageError(f"cannot write {self.out_path}: {exc}") from exc
        if self.nudged:
            logger.info("nudged %s non-increasing DTS values while writing %s", self.nudged, self.out_path)
        return self.out_path.stat().st_size

    def abort(self) -> None:
        """Drop the temp file (nothing is published)."""
        try:
            self._close()
        except _READ_ERRORS as exc:
            logger.debug("closing an aborted %s failed: %s", self._tmp, exc)
        self._tmp.unlink(missing_ok=True)

    def _close(self) -> None:
        if self._open:
            self._open = False
            self._container.close()

    def __enter__(self) -> RemuxWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._open or self._tmp.exists():
            self.abort()


def open_video(path: Path) -> tuple[InputContainer, VideoStream]:
    """Open a media file and its first video stream, or raise :class:`StorageError` naming the file."""
    if not path.is_file():
        raise StorageError(f"segment file is missing: {path}")
    try:
        container = av.open(str(path), "r", metadata_errors="replace")
    except _READ_ERRORS as exc:
        raise StorageError(f"segment file is unreadable: {path}: {exc}") from exc
    streams = container.streams.video
    if not streams or streams[0].codec_context is None or not streams[0].codec_context.name:
        container.close()
        raise StorageError(f"segment file has no usable video stream: {path}")
    return container, streams[0]


def read_packets(container: InputContainer, stream: VideoStream, path: Path) -> Iterator[Packet[VideoStream]]:
    """Every complete packet of ``stream``; stops quietly (with a warning) at a damaged or truncated tail."""
    try:
        for packet in container.demux(stream):
            if packet.size == 0 or (packet.dts is None and packet.pts is None):
                continue
            if packet.is_corrupt:
                logger.warning("skipping a truncated packet at dts=%s in %s", packet.dts, path)
                continue
            yield packet
    except _READ_ERRORS as exc:
        logger.warning("stopped reading %s at a damaged packet: %s", path, exc)


@dataclass(frozen=True)
class Timed:
    """A packet placed on the clip's timeline (seconds since the first overlapping part's start)."""

    packet: Packet[VideoStream]
    part: int
    pts_s: Fraction
    dts_s: Fraction
    duration_s: Fraction


def _format(stream: VideoStream) -> tuple[str, int, int]:
    ctx = stream.codec_context
    return ctx.name, ctx.width, ctx.height


def _part_packets(container: InputContainer, stream: VideoStream, index: int, offset_s: Fraction) -> Iterator[Timed]:
    """The packets of one part, timed so that its first packet falls at ``offset_s``."""
    tb = stream.time_base or Fraction(1, 90_000)
    fallback = 1 / Fraction(stream.average_rate) if stream.average_rate else Fraction(1, 25)
    origin: int | None = None
    for packet in read_packets(container, stream, Path(container.name)):
        dts = packet.dts if packet.dts is not None else packet.pts
        pts = packet.pts if packet.pts is not None else dts
        assert dts is not None and pts is not None  # read_packets drops packets with neither
        if origin is None:
            origin = pts
        duration = packet.duration * tb if packet.duration else fallback
        yield Timed(packet, index, offset_s + (pts - origin) * tb, offset_s + (dts - origin) * tb, duration)


def packet_timeline(parts: Sequence[ClipPart]) -> Iterator[tuple[Timed, VideoStream]]:
    """Packets of all ``parts`` in order, timed from the first part's ``start_us``."""
    first_format: tuple[str, int, int] | None = None
    for index, part in enumerate(parts):
        container, stream = open_video(part.local())
        try:
            first_format = first_format or _format(stream)
            if _format(stream) != first_format:
                logger.warning("clip stops before %s: its codec or picture size differs", part.path)
                return
            offset_s = Fraction(part.start_us - parts[0].start_us, _US)
            for item in _part_packets(container, stream, index, offset_s):
                yield item, stream
        finally:
            container.close()


def select_range(
    timeline: Iterator[tuple[Timed, VideoStream]], start_s: Fraction, end_s: Fraction
) -> Generator[tuple[Timed, VideoStream], None, None]:
    """From the keyframe at or before ``start_s`` (or the first keyframe after it) up to ``end_s``."""
    pending: list[tuple[Timed, VideoStream]] = []
    started = False
    for entry in timeline:
        item = entry[0]
        if item.dts_s >= end_s:
            break
        if not started:
            if item.packet.is_keyframe and item.pts_s <= start_s:
                pending = [entry]
                continue
            if pending and item.pts_s <= start_s:
                pending.append(entry)
                continue
            if not pending and not item.packet.is_keyframe:
                continue
            started = True
            yield from pending
            pending = []
        yield entry
    yield from pending


def _gaps(parts: Sequence[ClipPart], used: list[int]) -> list[tuple[int, int]]:
    chosen = [parts[i] for i in used]
    return [(a.end_us, b.start_us) for a, b in pairwise(chosen) if a.end_us < b.start_us]


def overlapping_parts(parts: Sequence[ClipPart], start_us: int, end_us: int) -> list[ClipPart]:
    if end_us <= start_us:
        raise InvalidRequest(f"clip end {end_us} is not after its start {start_us}")
    overlapping = [p for p in parts if p.start_us < end_us and p.end_us > start_us]
    if not overlapping:
        raise NoFootage(f"no recording between {start_us} and {end_us}")
    return overlapping


@dataclass
class _Progress:
    """What has been written so far: the first packet, the end of the last frame, the parts used."""

    first: Timed | None = None
    last_end_s: Fraction = Fraction(0)
    used: list[int] = field(default_factory=list)


def _mux_all(
    selected: Iterator[tuple[Timed, VideoStream]], out_path: Path, fragmented: bool
) -> tuple[_Progress, int, int]:
    """Write the selected packets; return the progress, the frame count and the file size."""
    progress, writer = _Progress(), None
    try:
        for item, stream in selected:
            if writer is None or progress.first is None:
                writer, progress.first = RemuxWriter(out_path, stream, fragmented=fragmented), item
            origin = progress.first.dts_s
            writer.write(item.packet, item.pts_s - origin, item.dts_s - origin, item.duration_s)
            progress.last_end_s = max(progress.last_end_s, item.pts_s + item.duration_s)
            if not progress.used or progress.used[-1] != item.part:
                progress.used.append(item.part)
        if writer is None:
            raise NoFootage(f"no readable frames for {out_path}")
        return progress, writer.frame_count, writer.commit()
    except BaseException:
        if writer is not None:
            writer.abort()
        raise


def write_clip(
    parts: Sequence[ClipPart], start_us: int, end_us: int, out_path: Path, *, fragmented: bool = False
) -> ClipResult:
    """Join the segments overlapping ``[start_us, end_us)`` into one MP4 at ``out_path`` (no re-encoding).

    ``parts`` are ordered, non-overlapping segments of one stream. Non-fragmented output is faststart
    (moov first) for browser seeking; ``fragmented=True`` writes a fragmented MP4.
    """
    overlapping = overlapping_parts(parts, start_us, end_us)
    base_us = overlapping[0].start_us
    start_s, end_s = Fraction(start_us - base_us, _US), Fraction(end_us - base_us, _US)
    with closing(select_range(packet_timeline(overlapping), start_s, end_s)) as selected:
        progress, frames, size = _mux_all(selected, out_path, fragmented)
    assert progress.first is not None
    logger.debug("wrote clip %s: %s frames from %s parts", out_path, frames, len(progress.used))
    return ClipResult(
        path=out_path,
        start_us=base_us + round(progress.first.pts_s * _US),
        end_us=base_us + round(progress.last_end_s * _US),
        frame_count=frames,
        size_bytes=size,
        parts_used=len(progress.used),
        gaps=_gaps(overlapping, progress.used),
    )
