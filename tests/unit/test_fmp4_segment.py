"""Vigil's own fragmented-MP4 segment writer: FFmpeg (PyAV) reads and decodes what it writes frame for frame, its
SHA-256 is the file's, fragments follow the invariants (a keyframe starts each one that has one, none longer than
a second), a file cut anywhere is salvaged up to its last whole fragment, and clips are made from it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from support.rtp import clip_units, parameter_sets_of
from support.segments import decode_counters, top_level_boxes
from vigil.domain.timestamps import DecodeTimes
from vigil.durable_files import sha256_file
from vigil.media.clip import ClipPart, write_clip
from vigil.media.fmp4 import fragment_info
from vigil.media.fmp4_segment import Fmp4SegmentWriter
from vigil.media.probe import probe_segment, salvage_segment
from vigil.media.rtsp.depacketizer import AccessUnit
from vigil.media.rtsp.h264 import H264Depacketizer
from vigil.media.rtsp.h265 import H265Depacketizer

START_US = 1_800_000_000_000_000
ORIGIN = 7_000_000  # RTP-like timestamps that do not start at 0


@dataclass(frozen=True)
class Place:
    camera_id: str
    stream: str
    root: Path


def access_units(clip: Path, hevc: bool = False) -> list[AccessUnit]:
    depack = (H265Depacketizer if hevc else H264Depacketizer)(96, parameter_sets_of(clip))
    config = depack.config()
    assert config is not None
    units, decode_times = [], DecodeTimes(config.reorder_frames or 0)
    for unit in clip_units(clip):
        data = b"".join(len(n).to_bytes(4, "big") + n for n in unit.units)
        pts = ORIGIN + unit.pts
        dts = decode_times.dts(pts, 3600)
        units.append(AccessUnit(pts, dts, unit.keyframe, data, len(data), config))
    return units


def write(tmp_path: Path, units: list[AccessUnit], end_dts: int | None = None) -> tuple[Fmp4SegmentWriter, Path]:
    writer = Fmp4SegmentWriter(Place("cam", "main", tmp_path), units[0].config, 90000, START_US, units[0].dts)
    for unit in units:
        writer.write(unit)
    info = writer.finish(START_US + 4_000_000, end_dts=end_dts)
    path = tmp_path / info.path
    assert info.frame_count == len(units) and info.size_bytes == path.stat().st_size
    assert info.sha256 == sha256_file(path), "the hash computed while writing is the file's"
    return writer, path


def demuxed(path: Path) -> list[av.Packet]:
    with av.open(str(path)) as container:
        return [p for p in container.demux(container.streams.video[0]) if p.size]


@pytest.mark.parametrize("clip_name", ["synthetic_clip", "hevc_clip", "bframes_clip"])
def test_ffmpeg_reads_and_decodes_every_frame(tmp_path, request, clip_name):
    clip = request.getfixturevalue(clip_name)
    units = access_units(clip, hevc=clip_name == "hevc_clip")
    _, path = write(tmp_path, units)
    packets = demuxed(path)
    assert len(packets) == len(units) and packets[0].is_keyframe
    assert [bool(p.is_keyframe) for p in packets] == [u.is_keyframe for u in units]
    assert [p.dts for p in packets] == [u.dts - units[0].dts for u in units], "the file's timeline starts at 0"
    assert [p.pts for p in packets] == [u.pts - units[0].dts for u in units]
    assert [bytes(p) for p in packets] == [bytes(u.data) for u in units]
    probe = probe_segment(path)
    assert (probe.width, probe.height, probe.frame_count) == (640, 360, len(units))
    assert decode_counters(path) == decode_counters(clip), "the same pictures, in the same order"


def test_fragments_start_at_keyframes_and_last_at_most_a_second(tmp_path, synthetic_clip):
    units = access_units(synthetic_clip)
    _, path = write(tmp_path, units)
    data = path.read_bytes()
    boxes = list(top_level_boxes(data))
    assert [kind for kind, _, _ in boxes[:2]] == ["ftyp", "moov"]
    fragments = [fragment_info(data[at : at + size]) for kind, at, size in boxes if kind == "moof"]
    keyframe_times = {u.dts - units[0].dts for u in units if u.is_keyframe}
    starts = [f.decode_time for f in fragments]
    assert keyframe_times <= set(starts), "every keyframe starts a fragment"
    assert all(f.keyframe == (f.decode_time in keyframe_times) for f in fragments)
    ends = [*starts[1:], units[-1].dts - units[0].dts + 3600]
    assert max(end - start for start, end in zip(starts, ends, strict=True)) <= 90000


def test_fragments_are_cut_every_second_between_distant_keyframes(tmp_path, synthetic_clip):
    units = access_units(synthetic_clip)
    for unit in units[1:]:
        unit.is_keyframe = False  # one keyframe in six seconds
    _, path = write(tmp_path, units)
    data = path.read_bytes()
    fragments = [fragment_info(data[at : at + size]) for kind, at, size in top_level_boxes(data) if kind == "moof"]
    assert [f.samples for f in fragments] == [25] * 6
    assert [f.keyframe for f in fragments] == [True] + [False] * 5


def test_the_last_sample_lasts_until_the_next_segment(tmp_path, synthetic_clip):
    units = access_units(synthetic_clip)[:30]
    _, path = write(tmp_path, units, end_dts=units[-1].dts + 7200)
    assert demuxed(path)[-1].duration == 7200
    _, path = write(tmp_path / "b", units)
    assert demuxed(path)[-1].duration == 3600, "without it: as long as the one before"


@pytest.mark.parametrize("cut_fraction", [0.05, 0.37, 0.5, 0.81, 0.999])
def test_a_file_cut_anywhere_is_salvaged_up_to_its_last_whole_fragment(tmp_path, synthetic_clip, cut_fraction):
    units = access_units(synthetic_clip)
    _, path = write(tmp_path, units)
    data = path.read_bytes()
    cut = int(len(data) * cut_fraction)
    part = tmp_path / "cut.mp4.part"
    part.write_bytes(data[:cut])
    whole = sum(
        fragment_info(data[at : at + size]).samples
        for kind, at, size in top_level_boxes(data)
        if kind == "moof" and at + size + _mdat_size(data, at + size) <= cut
    )
    result = salvage_segment(part, tmp_path / "salvaged.mp4")
    if whole == 0:
        assert result is None or result.frame_count <= 25
        return
    assert result is not None and result.frame_count >= whole
    assert decode_counters(tmp_path / "salvaged.mp4")[:whole] == list(range(whole))


def _mdat_size(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "big") if at + 8 <= len(data) else 1 << 40


def test_clips_are_made_from_these_segments(tmp_path, synthetic_clip):
    units = access_units(synthetic_clip)
    parts = []
    for k, group in enumerate([units[:50], units[50:100], units[100:]]):
        folder = tmp_path / f"s{k}"
        writer = Fmp4SegmentWriter(Place("cam", "main", folder), group[0].config, 90000, START_US, group[0].dts)
        for unit in group:
            writer.write(unit)
        info = writer.finish(START_US + 2_000_000)
        start = START_US + k * 2_000_000
        parts.append(ClipPart(folder / info.path, start, start + 2_000_000))
    result = write_clip(parts, START_US + 1_000_000, START_US + 5_000_000, tmp_path / "clip.mp4")
    assert result.frame_count == 100 and decode_counters(result.path) == list(range(25, 125))


def test_a_failed_write_marks_the_writer_failed(tmp_path, synthetic_clip):
    units = access_units(synthetic_clip)
    writer = Fmp4SegmentWriter(Place("cam", "main", tmp_path), units[0].config, 90000, START_US, units[0].dts)
    import os

    os.close(writer._fd)  # the descriptor goes bad under the writer, as a vanished disk would
    with pytest.raises(OSError):
        for unit in itertools.islice(units, 30):
            writer.write(unit)
    assert writer.failed
    writer.abandon()
    assert writer.part.exists(), "the part file stays for salvage"
