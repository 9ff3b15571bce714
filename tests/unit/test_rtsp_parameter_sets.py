"""Sequence parameter sets: picture sizes (cropping included) and avcC records equal to FFmpeg's, on real and
synthetic clips; broken ones raise ParameterSetError, never anything else."""

import random

import av
import pytest

from support.media import SHARED_DATA, requires_shared_data
from support.rtp import parameter_sets_of
from vigil.media.rtsp.parameter_sets import ParameterSetError, avcc_record, parse_h264_sps, parse_h265_sps, unescape
from vigil.media.synthetic import make_synthetic_clip
from vigil.media.transcode import ensure_h264


def ffmpeg_facts(path):
    with av.open(str(path)) as container:
        ctx = container.streams.video[0].codec_context
        return ctx.width, ctx.height, bytes(ctx.extradata)


@pytest.mark.parametrize(("width", "height"), [(640, 360), (1920, 1080), (322, 242)])
def test_h264_picture_size_and_avcc_equal_ffmpegs(tmp_path, width, height):
    clip = make_synthetic_clip(tmp_path / "c.mp4", width=width, height=height, duration_s=0.2)
    sps, pps = parameter_sets_of(clip)
    info = parse_h264_sps(sps)
    assert (info.width, info.height) == (width, height), "cropping applied (1080 is coded as 1088)"
    assert info.frame_rate == 25 and info.reorder_frames == 0
    assert avcc_record([sps], [pps], info) == ffmpeg_facts(clip)[2]


@requires_shared_data
def test_h264_sps_of_real_footage(tmp_path):
    clip = ensure_h264(SHARED_DATA / "pets09-s2l1" / "vtest.avi", tmp_path)
    sps, pps = parameter_sets_of(clip)
    info = parse_h264_sps(sps)
    width, height, record = ffmpeg_facts(clip)
    assert (info.width, info.height) == (width, height) == (768, 576)
    assert avcc_record([sps], [pps], info) == record


def test_h265_sps(hevc_clip):
    sps = next(u for u in parameter_sets_of(hevc_clip) if (u[0] >> 1) & 0x3F == 33)
    info, general = parse_h265_sps(sps)
    assert (info.width, info.height) == (640, 360)
    assert general == ffmpeg_facts(hevc_clip)[2][1:13]


def test_b_pictures_announce_their_reordering(bframes_clip):
    sps, _ = parameter_sets_of(bframes_clip)
    assert parse_h264_sps(sps).reorder_frames == 2


def test_emulation_prevention_bytes_are_removed():
    assert unescape(b"\x00\x00\x03\x01\x00\x00\x03\x00\x00\x03") == b"\x00\x00\x01\x00\x00\x00\x00"


@pytest.mark.parametrize("seed", range(30))
def test_damaged_sps_raise_parameter_set_error_only(seed):
    rng = random.Random(seed)
    sps = bytearray(bytes.fromhex("6764001eacb405017fcb080000030008000003019078b175"))
    if seed % 2:
        sps = sps[: rng.randrange(1, len(sps))]
    else:
        for _ in range(4):
            sps[rng.randrange(1, len(sps))] = rng.randrange(256)
    try:
        info = parse_h264_sps(bytes(sps))
    except ParameterSetError:
        return
    assert 0 < info.width <= 16384 and 0 < info.height <= 16384
