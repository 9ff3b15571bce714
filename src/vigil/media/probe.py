"""Reading segment files (without decoding) and salvaging the readable part of a truncated one.

A segment that was being written when the recorder died is a fragmented MP4 cut anywhere: inside the
header, inside a fragment, or followed by garbage. FFmpeg reads such a file up to the cut and flags the
one packet the cut went through as corrupt; :func:`salvage_segment` keeps every complete packet before
it and rewrites them, with their original timestamps, into a clean fragmented MP4.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from av.container import InputContainer
from av.packet import Packet
from av.video.stream import VideoStream

from vigil.domain.errors import StorageError
from vigil.media.clip import RemuxWriter, open_video, read_packets

logger = logging.getLogger(__name__)

_US = 1_000_000


@dataclass(frozen=True)
class SegmentProbe:
    """What a segment file holds. Times are microseconds on the file's own timeline."""

    codec: str
    width: int
    height: int
    frame_count: int
    first_pts_us: int
    duration_us: int
    keyframe_count: int


@dataclass
class _Tally:
    """Running counts over the packets of one stream."""

    time_base: Fraction
    frames: int = 0
    keyframes: int = 0
    first_pts: int | None = None
    end_pts: int | None = None

    def add(self, packet: Packet[VideoStream]) -> None:
        pts = packet.pts if packet.pts is not None else packet.dts
        assert pts is not None  # read_packets drops packets without timestamps
        self.frames += 1
        self.keyframes += bool(packet.is_keyframe)
        self.first_pts = pts if self.first_pts is None else min(self.first_pts, pts)
        end = pts + (packet.duration or 0)
        self.end_pts = end if self.end_pts is None else max(self.end_pts, end)

    def probe(self, stream: VideoStream) -> SegmentProbe:
        first = self.first_pts or 0
        end = self.end_pts if self.end_pts is not None else first
        ctx = stream.codec_context
        return SegmentProbe(
            codec=ctx.name,
            width=ctx.width,
            height=ctx.height,
            frame_count=self.frames,
            first_pts_us=round(first * self.time_base * _US),
            duration_us=round((end - first) * self.time_base * _US),
            keyframe_count=self.keyframes,
        )


def _time_base(stream: VideoStream) -> Fraction:
    return stream.time_base or Fraction(1, 90_000)


def probe_segment(path: Path) -> SegmentProbe:
    """Codec, picture size, frame and keyframe counts and span of a segment (reads packets, no decoding).

    A truncated file is probed up to its last complete packet. Raises :class:`StorageError` when the file
    cannot be opened or has no video stream.
    """
    container, stream = open_video(path)
    try:
        tally = _Tally(_time_base(stream))
        for packet in read_packets(container, stream, path):
            tally.add(packet)
        return tally.probe(stream)
    finally:
        container.close()


def _nal_length_size(stream: VideoStream) -> int | None:
    """Bytes of the NAL length prefix for H.264/H.265 in MP4 (from avcC/hvcC), None when unknown."""
    extradata = stream.codec_context.extradata or b""
    name = stream.codec_context.name
    if name == "h264" and len(extradata) > 4 and extradata[0] == 1:
        return (extradata[4] & 0x03) + 1
    if name == "hevc" and len(extradata) > 21 and extradata[0] == 1:
        return (extradata[21] & 0x03) + 1
    return None


def _nal_units_whole(data: bytes, length_size: int) -> bool:
    """Whether ``data`` is a chain of non-empty length-prefixed NAL units filling it exactly.

    Garbage or zeros read where a cut file was padded (as after a power loss) fail this test.
    """
    offset = 0
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + length_size], "big")
        offset += length_size
        if length == 0 or offset + length > len(data) or data[offset] & 0x80:
            return False
        offset += length
    return offset == len(data)


def _copy_packets(container: InputContainer, stream: VideoStream, partial: Path, out_path: Path) -> int:
    """Remux every complete packet into ``out_path``; return how many (0: nothing was published)."""
    tb, length_size = _time_base(stream), _nal_length_size(stream)
    with RemuxWriter(out_path, stream, fragmented=True) as writer:
        for packet in read_packets(container, stream, partial):
            if length_size and not _nal_units_whole(bytes(packet), length_size):
                logger.warning("salvage of %s stops at a damaged packet (dts=%s)", partial, packet.dts)
                break
            dts = packet.dts if packet.dts is not None else packet.pts
            assert dts is not None  # read_packets drops packets without timestamps
            pts = None if packet.pts is None else packet.pts * tb
            try:
                writer.write(packet, pts, dts * tb, (packet.duration or 0) * tb)
            except StorageError as exc:
                if not _refused_input(exc):
                    raise
                logger.warning("salvage of %s stops at a packet the muxer refused: %s", partial, exc)
                break
        if writer.frame_count:
            writer.commit()
        return writer.frame_count


def _refused_input(exc: StorageError) -> bool:
    """Whether FFmpeg refused what it was given (EINVAL: damaged input), rather than failing to write."""
    return isinstance(exc.__cause__, ValueError)


def salvage_segment(partial: Path, out_path: Path) -> SegmentProbe | None:
    """Rewrite the readable packets of a truncated fragmented MP4 into a clean one at ``out_path``.

    Returns the probe of the new file, or None (writing nothing) when not one complete packet can be
    read. Never raises on damaged input; failing to write the output is a :class:`StorageError`.
    """
    try:
        container, stream = open_video(partial)
    except StorageError as exc:
        logger.info("nothing to salvage in %s: %s", partial, exc)
        return None
    try:
        copied = _copy_packets(container, stream, partial, out_path)
    except StorageError as exc:
        if not _refused_input(exc):
            raise
        logger.warning("nothing to salvage in %s: its stream description is damaged: %s", partial, exc)
        return None
    finally:
        container.close()
    if not copied:
        logger.info("nothing to salvage in %s: no complete packet", partial)
        return None
    logger.info("salvaged %s packets from %s into %s", copied, partial, out_path)
    return probe_segment(out_path)
