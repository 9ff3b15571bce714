"""probe_segment and salvage_segment on real fMP4 segments, whole and cut at many byte offsets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from support.segments import cut_segments, decode_counters, expected_after_cut, top_level_boxes
from vigil.domain.errors import StorageError
from vigil.media.clip import ClipPart
from vigil.media.probe import probe_segment, salvage_segment
from vigil.media.synthetic import make_synthetic_clip

BASE = 1_700_000_000_000_000


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("source")
    return make_synthetic_clip(folder / "src.mp4", width=640, height=360, fps=25, duration_s=6, gop_s=1)


@pytest.fixture(scope="module")
def segment(source: Path, tmp_path_factory: pytest.TempPathFactory) -> ClipPart:
    """One 3 s segment (frames 0..74, three 1 s fragments) as the recorder writes it."""
    return cut_segments(source, tmp_path_factory.mktemp("segments"), 3, BASE)[0]


def test_probe_of_a_whole_segment(segment: ClipPart) -> None:
    probe = probe_segment(segment.path)

    assert (probe.codec, probe.width, probe.height) == ("h264", 640, 360)
    assert (probe.frame_count, probe.keyframe_count) == (75, 3)
    assert (probe.first_pts_us, probe.duration_us) == (0, 3_000_000)


def test_probe_reports_the_files_own_timeline(source: Path, tmp_path: Path) -> None:
    parts = cut_segments(source, tmp_path, 3, BASE, ts_offset=25_600, keep_timestamps=True)

    probes = [probe_segment(p.path) for p in parts]

    assert [p.first_pts_us for p in probes] == [2_000_000, 5_000_000]  # 25600 ticks of 1/12800 s = 2 s
    assert [p.duration_us for p in probes] == [3_000_000, 3_000_000]


def test_probe_of_a_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=r"nothing\.mp4"):
        probe_segment(tmp_path / "nothing.mp4")


def test_probe_of_garbage_raises(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(7).bytes(4096))

    with pytest.raises(StorageError, match=r"junk\.mp4"):
        probe_segment(junk)


def _boxes(data: bytes) -> dict[str, list[tuple[int, int]]]:
    found: dict[str, list[tuple[int, int]]] = {}
    for kind, offset, size in top_level_boxes(data):
        found.setdefault(kind, []).append((offset, size))
    return found


def _cut_points(data: bytes) -> dict[str, int]:
    """Byte offsets worth cutting at, named: inside the header, on and inside fragments, proportions."""
    boxes = _boxes(data)
    (moov, moov_size), moofs, mdats = boxes["moov"][0], boxes["moof"], boxes["mdat"]
    return {
        "empty": 0,
        "inside_ftyp": 10,
        "inside_moov": moov + moov_size // 2,
        "after_moov": moov + moov_size,
        "inside_first_moof": moofs[0][0] + 40,
        "first_mdat_header": mdats[0][0] + 8,
        "half": len(data) // 2,
        "on_second_fragment": moofs[1][0],
        "inside_second_moof": moofs[1][0] + 60,
        "ninety_percent": len(data) * 9 // 10,
        "last_byte_missing": mdats[-1][0] + mdats[-1][1] - 1,
        "whole": len(data),
    }


@pytest.mark.parametrize(
    "point",
    [
        "empty",
        "inside_ftyp",
        "inside_moov",
        "after_moov",
        "inside_first_moof",
        "first_mdat_header",
        "half",
        "on_second_fragment",
        "inside_second_moof",
        "ninety_percent",
        "last_byte_missing",
        "whole",
    ],
)
def test_salvage_keeps_every_complete_frame_before_the_cut(segment: ClipPart, tmp_path: Path, point: str) -> None:
    data = segment.path.read_bytes()
    cut = _cut_points(data)[point]
    partial, out = tmp_path / "seg.mp4.part", tmp_path / "seg.mp4"
    partial.write_bytes(data[:cut])
    expected = expected_after_cut(data, cut)

    probe = salvage_segment(partial, out)

    if expected.complete_samples == 0:
        assert probe is None
        assert not out.exists()
    else:
        assert probe is not None
        assert probe.frame_count == expected.complete_samples >= expected.complete_fragment_samples
        assert probe.first_pts_us == 0
        assert probe.duration_us == expected.complete_samples * 40_000
        assert decode_counters(out) == list(range(expected.complete_samples))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["seg.mp4.part"] + (["seg.mp4"] if probe else []))


def test_expected_counts_match_fragment_boundaries(segment: ClipPart) -> None:
    """The independent box count: each 1 s fragment holds 25 frames."""
    data = segment.path.read_bytes()
    points = _cut_points(data)

    assert expected_after_cut(data, points["on_second_fragment"]).complete_fragment_samples == 25
    assert expected_after_cut(data, points["on_second_fragment"]).complete_samples == 25
    assert expected_after_cut(data, points["last_byte_missing"]).complete_fragment_samples == 50
    assert expected_after_cut(data, points["last_byte_missing"]).complete_samples == 74
    assert expected_after_cut(data, points["whole"]).complete_samples == 75


@pytest.mark.parametrize("point", ["whole", "on_second_fragment", "after_moov"])
def test_salvage_with_random_garbage_after_a_clean_cut(segment: ClipPart, tmp_path: Path, point: str) -> None:
    data = segment.path.read_bytes()
    cut = _cut_points(data)[point]
    partial, out = tmp_path / "seg.mp4.part", tmp_path / "seg.mp4"
    partial.write_bytes(data[:cut] + np.random.default_rng(3).bytes(20_000))

    probe = salvage_segment(partial, out)

    expected = expected_after_cut(data, cut).complete_samples
    assert (probe.frame_count if probe else 0) == expected
    if probe:
        assert decode_counters(out) == list(range(expected))


@pytest.mark.parametrize("filler", ["random", "zeros"])
@pytest.mark.parametrize("point", ["half", "ninety_percent", "inside_second_moof"])
def test_salvage_of_a_cut_fragment_padded_with_junk(segment: ClipPart, tmp_path: Path, point: str, filler: str) -> None:
    """A fragment cut short and then padded (as after a power loss): the padding is not taken as frames.

    The frame the cut went through may keep its real prefix (it cannot be told from a good one without
    decoding), so one extra frame is allowed; nothing after it is.
    """
    data = segment.path.read_bytes()
    cut = _cut_points(data)[point]
    junk = np.random.default_rng(5).bytes(len(data)) if filler == "random" else bytes(len(data))
    partial, out = tmp_path / "seg.mp4.part", tmp_path / "seg.mp4"
    partial.write_bytes(data[:cut] + junk)

    probe = salvage_segment(partial, out)

    expected = expected_after_cut(data, cut).complete_samples
    assert probe is not None
    assert expected <= probe.frame_count <= expected + 1


def test_salvage_of_a_missing_file_returns_none(tmp_path: Path) -> None:
    assert salvage_segment(tmp_path / "gone.mp4.part", tmp_path / "gone.mp4") is None
    assert list(tmp_path.iterdir()) == []
