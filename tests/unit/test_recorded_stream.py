"""Playback streams (vigil.media.recorded_stream) over real fMP4 segments cut from a synthetic H.264 clip (25 fps,
a keyframe every second, each frame numbered in the picture): the stream, written out as it is sent and decoded
by FFmpeg, starts on the keyframe at or before the moment, holds every frame after it across segments, keeps a
gap between segments as a gap in media time, and is made fragment by fragment."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from support.segments import cut_segments, decode_counters
from vigil.domain.errors import InvalidRequest, NoFootage
from vigil.media.clip import ClipPart
from vigil.media.fmp4 import boxes, fragment_info, timescale
from vigil.media.recorded_stream import open_playback
from vigil.media.synthetic import make_synthetic_clip

BASE = 1_700_000_000_000_000


def _s(seconds: float) -> int:
    return BASE + round(seconds * 1_000_000)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("source")
    return make_synthetic_clip(folder / "src.mp4", width=640, height=360, fps=25, duration_s=6, gop_s=1)


@pytest.fixture(scope="module")
def parts(source: Path, tmp_path_factory: pytest.TempPathFactory) -> list[ClipPart]:
    return cut_segments(source, tmp_path_factory.mktemp("segments"), 2, BASE)


@pytest.fixture(scope="module")
def gapped(source: Path, tmp_path_factory: pytest.TempPathFactory) -> list[ClipPart]:
    return cut_segments(source, tmp_path_factory.mktemp("gapped"), 2, BASE, gaps_us=[0, 3_000_000])


def written(tmp_path: Path, chunks: list[bytes]) -> Path:
    path = tmp_path / "stream.mp4"
    path.write_bytes(b"".join(chunks))
    return path


def test_the_stream_starts_on_the_keyframe_before_and_holds_every_frame_after(parts, tmp_path):
    stream = open_playback(parts, _s(2.5), _s(6))
    assert stream.start_us == _s(2.0)  # the keyframe at or before 2.5 s
    assert stream.mime.startswith('video/mp4; codecs="avc1.') and (stream.width, stream.height) == (640, 360)
    chunks = list(stream.chunks)
    init, fragments = chunks[0], chunks[1:]
    assert [b.kind for b in boxes(init)] == [b"ftyp", b"moov"]
    infos = [fragment_info(f) for f in fragments]
    assert all(i.keyframe for i in infos) and [i.samples for i in infos] == [25, 25, 25, 25]  # one per second
    ticks = timescale(init)
    assert [i.decode_time / ticks for i in infos] == pytest.approx([0, 1, 2, 3], abs=0.001)
    assert decode_counters(written(tmp_path, chunks)) == list(range(50, 150))


def test_a_gap_between_segments_stays_a_gap_in_media_time(gapped, tmp_path):
    stream = open_playback(gapped, _s(3.0), _s(12))
    chunks = list(stream.chunks)
    ticks = timescale(chunks[0])
    starts = [fragment_info(f).decode_time / ticks for f in chunks[1:]]
    assert starts == pytest.approx([0, 4, 5], abs=0.001)  # 3.0-4.0 s, then 3 s of nothing, then 7-9 s
    assert decode_counters(written(tmp_path, chunks)) == list(range(75, 150))


def test_chunks_are_made_as_they_are_read(parts):
    stream = open_playback(parts, _s(0.2), _s(6))
    chunks = iter(stream.chunks)
    next(chunks), next(chunks)  # the init and the first second
    stream.close()  # a player that went away: the files are closed, nothing more is made
    assert list(chunks) == []


def test_a_range_without_footage_is_refused_before_any_byte(parts):
    with pytest.raises(NoFootage):
        open_playback(parts, _s(10), _s(20))
    with pytest.raises(InvalidRequest):
        open_playback(parts, _s(3), _s(2))


def test_the_stream_plays_as_one_file(parts, tmp_path):
    path = written(tmp_path, list(open_playback(parts, _s(0), _s(6)).chunks))
    with av.open(str(path)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 150
