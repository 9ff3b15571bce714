"""Test helpers: cut a clip into recorder-like fMP4 segments, read MP4 box structure, read frame counters.

The box reader is deliberately independent of FFmpeg, so tests can compute from the raw bytes what a
truncated file should still hold.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from vigil.media.clip import ClipPart

RECORDER_MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
US = 1_000_000


def cut_segments(
    src: Path,
    out_dir: Path,
    seconds_per_segment: float,
    base_start_us: int,
    *,
    gaps_us: Sequence[int] = (),
    ts_offset: int = 123_456,
    keep_timestamps: bool = False,
) -> list[ClipPart]:
    """Cut ``src`` on keyframes into fMP4 segments like the recorder writes them.

    Packet timestamps keep running across segments (shifted by ``ts_offset`` ticks, so they never start
    at 0). The MP4 muxer with the recorder's flags rebases each file to 0 anyway; ``keep_timestamps``
    adds muxer options that keep the running timestamps in the files. ``gaps_us[i]`` microseconds are
    left between segment ``i`` and ``i + 1`` in the catalogue times.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        tb = stream.time_base
        assert tb is not None
        groups: list[list[av.Packet]] = []
        for packet in container.demux(stream):
            if not packet.size or packet.pts is None or packet.dts is None:
                continue
            packet.pts, packet.dts = packet.pts + ts_offset, packet.dts + ts_offset
            if not groups or (packet.is_keyframe and _span_s(groups[-1], tb) >= seconds_per_segment):
                groups.append([])
            groups[-1].append(packet)
        first_pts = groups[0][0].pts
        assert first_pts is not None
        parts: list[ClipPart] = []
        shift = 0
        for i, group in enumerate(groups):
            path = out_dir / f"seg{i:03d}.mp4"
            _write_segment(path, stream, group, keep_timestamps)
            start_pts, end_pts = _pts_range(group)
            start_us = base_start_us + shift + round((start_pts - first_pts) * tb * US)
            parts.append(ClipPart(path, start_us, start_us + round((end_pts - start_pts) * tb * US)))
            shift += gaps_us[i] if i < len(gaps_us) else 0
        return parts


def _pts_range(group: list[av.Packet]) -> tuple[int, int]:
    pts = [p.pts for p in group if p.pts is not None]
    last = max(pts)
    return min(pts), last + (group[-1].duration or 0)


def _span_s(group: list[av.Packet], tb: Fraction) -> Fraction:
    start, end = _pts_range(group)
    return (end - start) * tb


def _write_segment(
    path: Path, template: av.video.stream.VideoStream, packets: list[av.Packet], keep_timestamps: bool
) -> None:
    options = {"movflags": RECORDER_MOVFLAGS}
    if keep_timestamps:
        options = {"movflags": RECORDER_MOVFLAGS + "+frag_discont", "avoid_negative_ts": "disabled"}
        options["use_editlist"] = "0"
    with av.open(str(path), "w", format="mp4", options=options) as out:
        stream = out.add_stream_from_template(template)
        for packet in packets:
            packet.stream = stream
            out.mux(packet)


def top_level_boxes(data: bytes) -> Iterator[tuple[str, int, int]]:
    """(type, offset, size) of each top-level box; stops at a truncated or nonsensical header."""
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1 and offset + 16 <= len(data):
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        if size < 8:
            return
        yield kind.decode("latin-1"), offset, size
        offset += size


def _children(data: bytes, start: int, end: int) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        found.setdefault(kind.decode("latin-1"), (offset, size))
        offset += max(size, 8)
    return found


def _sample_extents(data: bytes, moof: int, moof_size: int) -> list[tuple[int, int]]:
    """(file offset, size) of each sample a moof describes (one traf, one trun, default-base-is-moof)."""
    traf_off, traf_size = _children(data, moof + 8, moof + moof_size)["traf"]
    boxes = _children(data, traf_off + 8, traf_off + traf_size)
    tfhd_off, _ = boxes["tfhd"]
    tfhd_flags = struct.unpack(">I", data[tfhd_off + 8 : tfhd_off + 12])[0] & 0xFFFFFF
    cursor = tfhd_off + 16  # after version/flags and track_ID
    default_size = 0
    for bit, width in ((0x1, 8), (0x2, 4), (0x8, 4), (0x10, 4)):
        if tfhd_flags & bit:
            if bit == 0x10:
                default_size = struct.unpack(">I", data[cursor : cursor + 4])[0]
            cursor += width
    trun_off, _ = boxes["trun"]
    flags = struct.unpack(">I", data[trun_off + 8 : trun_off + 12])[0] & 0xFFFFFF
    count = struct.unpack(">I", data[trun_off + 12 : trun_off + 16])[0]
    cursor = trun_off + 16
    data_offset = 0
    if flags & 0x1:
        data_offset = struct.unpack(">i", data[cursor : cursor + 4])[0]
        cursor += 4
    cursor += 4 if flags & 0x4 else 0
    per_sample = [(0x100, 4), (0x200, 4), (0x400, 4), (0x800, 4)]
    extents: list[tuple[int, int]] = []
    position = moof + data_offset
    for _ in range(count):
        size = default_size
        for bit, width in per_sample:
            if flags & bit:
                if bit == 0x200:
                    size = struct.unpack(">I", data[cursor : cursor + 4])[0]
                cursor += width
        extents.append((position, size))
        position += size
    return extents


@dataclass(frozen=True)
class CutExpectation:
    """What survives a cut at ``cut`` bytes: whole samples, and samples of whole fragments."""

    complete_samples: int
    complete_fragment_samples: int


def expected_after_cut(data: bytes, cut: int) -> CutExpectation:
    """Count, from the box structure alone, the samples lying entirely before byte ``cut``."""
    boxes = list(top_level_boxes(data))
    moov = next((off + size for kind, off, size in boxes if kind == "moov"), None)
    if moov is None or moov > cut:
        return CutExpectation(0, 0)
    samples = fragments = 0
    for index, (kind, off, size) in enumerate(boxes):
        if kind != "moof" or off + size > cut:
            continue
        extents = _sample_extents(data, off, size)
        whole = sum(1 for start, length in extents if start + length <= cut)
        samples += whole
        mdat_end = boxes[index + 1][1] + boxes[index + 1][2] if index + 1 < len(boxes) else len(data)
        fragments += len(extents) if mdat_end <= cut else 0
    return CutExpectation(samples, fragments)


def frame_counter(rgb: np.ndarray) -> int:
    """The frame number drawn by ``vigil.media.synthetic`` in the bottom bar (10 bits, modulo 1024)."""
    height, width = rgb.shape[:2]
    cell = max(2, width // 40)
    row = rgb[height - cell // 2, :, :].mean(axis=-1)
    return sum(1 << b for b in range(10) if row[b * cell + cell // 2] > 128)


def decode_counters(path: Path) -> list[int]:
    """Decode every frame of ``path`` and read its frame counter."""
    with av.open(str(path)) as container:
        return [frame_counter(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
