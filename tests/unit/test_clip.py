"""write_clip on real fMP4 segments cut from a synthetic H.264 clip (25 fps, a keyframe every second)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest

from support.segments import cut_segments, decode_counters, frame_counter, top_level_boxes
from vigil.domain.errors import InvalidRequest, NoFootage, StorageError
from vigil.media.clip import ClipPart, write_clip
from vigil.media.probe import probe_segment
from vigil.media.synthetic import make_synthetic_clip

BASE = 1_700_000_000_000_000
FPS = 25


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("source")
    return make_synthetic_clip(folder / "src.mp4", width=640, height=360, fps=FPS, duration_s=6, gop_s=1)


@pytest.fixture(scope="module")
def parts(source: Path, tmp_path_factory: pytest.TempPathFactory) -> list[ClipPart]:
    """Three touching 2 s segments: [BASE, BASE+2s), [BASE+2s, BASE+4s), [BASE+4s, BASE+6s)."""
    return cut_segments(source, tmp_path_factory.mktemp("segments"), 2, BASE)


@pytest.fixture(scope="module")
def gapped(source: Path, tmp_path_factory: pytest.TempPathFactory) -> list[ClipPart]:
    """The same three segments with 3 s of nothing between the second and the third."""
    return cut_segments(source, tmp_path_factory.mktemp("gapped"), 2, BASE, gaps_us=[0, 3_000_000])


def _s(seconds: float) -> int:
    return BASE + round(seconds * 1_000_000)


def test_segments_are_laid_out_as_expected(parts: list[ClipPart]) -> None:
    assert [(p.start_us, p.end_us) for p in parts] == [(_s(0), _s(2)), (_s(2), _s(4)), (_s(4), _s(6))]


def test_clip_across_three_segments_starts_on_the_keyframe_before(parts: list[ClipPart], tmp_path: Path) -> None:
    result = write_clip(parts, _s(1.5), _s(5.2), tmp_path / "clip.mp4")

    assert result.start_us == _s(1.0)  # keyframe at or before 1.5 s
    assert result.end_us == _s(5.2)
    assert result.frame_count == 130 - 25  # frames 25..129; frame 130 (5.2 s) reaches the end
    assert result.parts_used == 3
    assert result.gaps == []
    assert result.size_bytes == result.path.stat().st_size > 0
    assert decode_counters(result.path) == list(range(25, 130))


def test_clip_inside_one_segment(parts: list[ClipPart], tmp_path: Path) -> None:
    result = write_clip(parts, _s(2.3), _s(3.1), tmp_path / "clip.mp4")

    assert (result.start_us, result.parts_used, result.frame_count) == (_s(2.0), 1, 28)
    assert decode_counters(result.path) == list(range(50, 78))


def test_start_on_a_keyframe_is_kept_exactly(parts: list[ClipPart], tmp_path: Path) -> None:
    result = write_clip(parts, _s(2.0), _s(2.4), tmp_path / "clip.mp4")

    assert (result.start_us, result.frame_count) == (_s(2.0), 10)


def test_non_zero_packet_timestamps_in_the_files(source: Path, tmp_path: Path) -> None:
    running = cut_segments(source, tmp_path / "segs", 2, BASE, keep_timestamps=True)
    assert probe_segment(running[1].path).first_pts_us > 0

    result = write_clip(running, _s(1.5), _s(5.2), tmp_path / "clip.mp4")

    assert (result.start_us, result.frame_count) == (_s(1.0), 105)
    assert decode_counters(result.path) == list(range(25, 130))
    assert probe_segment(result.path).first_pts_us == 0


def test_gap_between_parts_is_reported_and_kept_in_the_timeline(gapped: list[ClipPart], tmp_path: Path) -> None:
    result = write_clip(gapped, _s(0.5), _s(8.5), tmp_path / "clip.mp4")

    assert result.gaps == [(gapped[1].end_us, gapped[2].start_us)] == [(_s(4), _s(7))]
    assert (result.start_us, result.end_us, result.frame_count, result.parts_used) == (_s(0), _s(8.52), 138, 3)
    with av.open(str(result.path)) as container:
        times = [frame.time for frame in container.decode(video=0)]
    assert times[99] == pytest.approx(99 / FPS)
    assert times[100] == pytest.approx(7.0)  # first frame after the gap, 7 s into the clip
    assert probe_segment(result.path).duration_us == result.end_us - result.start_us


def test_start_inside_a_gap_starts_on_the_next_keyframe(gapped: list[ClipPart], tmp_path: Path) -> None:
    result = write_clip(gapped, _s(5.0), _s(7.5), tmp_path / "clip.mp4")

    assert (result.start_us, result.frame_count, result.parts_used, result.gaps) == (_s(7.0), 13, 1, [])


@pytest.mark.parametrize(("start", "end"), [(4.2, 6.8), (-5.0, -1.0), (9.0, 12.0)])
def test_range_without_footage_raises_no_footage(
    gapped: list[ClipPart], tmp_path: Path, start: float, end: float
) -> None:
    with pytest.raises(NoFootage):
        write_clip(gapped, _s(start), _s(end), tmp_path / "clip.mp4")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("end", [1.0, 0.5])
def test_end_not_after_start_is_invalid(parts: list[ClipPart], tmp_path: Path, end: float) -> None:
    with pytest.raises(InvalidRequest):
        write_clip(parts, _s(1.0), _s(end), tmp_path / "clip.mp4")


def test_missing_part_raises_storage_error_naming_the_file(parts: list[ClipPart], tmp_path: Path) -> None:
    missing = ClipPart(tmp_path / "gone.mp4", parts[1].start_us, parts[1].end_us)

    with pytest.raises(StorageError, match=r"gone\.mp4"):
        write_clip([parts[0], missing, parts[2]], _s(1.0), _s(5.0), tmp_path / "clip.mp4")
    assert [p.name for p in tmp_path.iterdir()] == []


def test_unreadable_part_raises_storage_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(1).bytes(5000))

    with pytest.raises(StorageError, match=r"junk\.mp4"):
        write_clip([ClipPart(junk, _s(0), _s(2))], _s(0), _s(1), tmp_path / "clip.mp4")


def test_parts_outside_the_range_are_not_opened(parts: list[ClipPart], tmp_path: Path) -> None:
    before = ClipPart(tmp_path / "never-read-1.mp4", _s(-4), _s(-2))
    after = ClipPart(tmp_path / "never-read-2.mp4", _s(8), _s(10))

    result = write_clip([before, *parts, after], _s(0.2), _s(3.0), tmp_path / "clip.mp4")

    assert (result.frame_count, result.parts_used) == (75, 2)


def test_overlapping_timestamps_are_nudged_not_refused(parts: list[ClipPart], tmp_path: Path) -> None:
    early = 100_000  # the second part claims to start 0.1 s before the first one ends
    squeezed = [parts[0], *(ClipPart(p.path, p.start_us - early, p.end_us - early) for p in parts[1:])]

    result = write_clip(squeezed, _s(0), _s(6), tmp_path / "clip.mp4")

    assert result.frame_count == 150
    with av.open(str(result.path)) as container:
        dts = [p.dts for p in container.demux(video=0) if p.size]
    assert all(b > a for a, b in pairwise(dts))


def _box_order(path: Path) -> list[str]:
    return [kind for kind, _, _ in top_level_boxes(path.read_bytes())]


def test_plain_output_is_faststart(parts: list[ClipPart], tmp_path: Path) -> None:
    result = write_clip(parts, _s(0.5), _s(4.5), tmp_path / "clip.mp4")

    order = _box_order(result.path)
    assert "moof" not in order
    assert order.index("moov") < order.index("mdat")


def test_fragmented_output(parts: list[ClipPart], tmp_path: Path) -> None:
    result = write_clip(parts, _s(0.5), _s(4.5), tmp_path / "clip.mp4", fragmented=True)

    order = _box_order(result.path)
    assert order.index("moov") < order.index("moof") < order.index("mdat")
    assert decode_counters(result.path) == list(range(0, 113))


def test_first_frame_is_a_real_picture(parts: list[ClipPart], tmp_path: Path) -> None:
    result = write_clip(parts, _s(3.3), _s(4.0), tmp_path / "clip.mp4")

    with av.open(str(result.path)) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert first.shape == (360, 640, 3)
    assert first.std() > 20  # not a flat grey/black frame
    assert frame_counter(first) == 75


def test_no_temp_file_left_and_existing_output_replaced(parts: list[ClipPart], tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    out.write_bytes(b"old")

    write_clip(parts, _s(0), _s(1), out)

    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]
    assert probe_segment(out).frame_count == 25
