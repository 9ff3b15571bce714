"""The recorder's loop on Vigil's reader path without a network: a fake source hands over access units (two
cameras' worth of parameter sets, one after the other), and the recorder cuts a new segment where they change."""

from __future__ import annotations

import threading
from fractions import Fraction

import pytest

from support.recorder_run import packets
from support.rtp import clip_units, parameter_sets_of
from vigil.domain.reports import SegmentClosed
from vigil.media import recorder as recorder_module
from vigil.media.fmp4_segment import Fmp4SegmentWriter
from vigil.media.recorder import StreamRecorder, StreamSpec
from vigil.media.rtsp.depacketizer import AccessUnit
from vigil.media.rtsp.h264 import H264Depacketizer
from vigil.media.synthetic import make_synthetic_clip
from vigil.ports import SystemClock


class FakeSource:
    loop = False
    time_base = Fraction(1, 90000)
    frame_rate = Fraction(25)

    def __init__(self, units, stop):
        self.units, self.stop = units, stop

    def packets(self):
        yield from self.units
        self.stop.set()  # the camera is done: stop the recorder rather than reconnect

    def open_writer(self, place, first, start_us, start_dts):
        return Fmp4SegmentWriter(place, first.config, 90000, start_us, start_dts)

    def losses(self):
        return 0, 0

    def close(self):
        pass


def units_of(clip, origin):
    config = H264Depacketizer(96, parameter_sets_of(clip)).config()
    out = []
    for unit in clip_units(clip):
        data = b"".join(len(n).to_bytes(4, "big") + n for n in unit.units)
        out.append(AccessUnit(origin + unit.pts, origin + unit.pts, unit.keyframe, data, len(data), config))
    return out


def test_a_change_of_parameter_sets_starts_a_new_segment(tmp_path, synthetic_clip, monkeypatch):
    small = make_synthetic_clip(tmp_path / "small.mp4", width=320, height=240, duration_s=2)
    first = units_of(synthetic_clip, 1000)
    second = units_of(small, first[-1].pts + 3600)
    stop = threading.Event()
    monkeypatch.setattr(recorder_module, "open_recording_source", lambda *a, **k: FakeSource(first + second, stop))
    messages = []
    spec = StreamSpec("cam", "main", "rtsp://camera/", "rtsp://camera/", tmp_path / "rec", segment_duration_s=60)
    StreamRecorder(spec, messages.append, SystemClock()).run(stop)
    segs = [m.info for m in messages if isinstance(m, SegmentClosed)]
    assert [(s.width, s.height, s.frame_count) for s in segs] == [(640, 360, len(first)), (320, 240, len(second))]
    for seg in segs:
        pk = packets(tmp_path / "rec" / seg.path)
        assert len(pk) == seg.frame_count and pk[0].is_keyframe
    assert segs[1].start_us == segs[0].end_us


@pytest.mark.parametrize("reader", ["vigil", "ffmpeg"])
def test_the_configured_reader_is_used(tmp_path, monkeypatch, reader):
    chosen = []

    def fake_open(url, *, display_url, transport, timeout_s, vigil_reader, stop):
        chosen.append(vigil_reader)
        stop.set()
        raise OSError("no camera here")

    monkeypatch.setattr(recorder_module, "open_recording_source", fake_open)
    spec = StreamSpec("cam", "main", "rtsp://camera/", "rtsp://camera/", tmp_path, rtsp_reader=reader)
    StreamRecorder(spec, lambda m: None, SystemClock()).run(threading.Event())
    assert chosen == [reader == "vigil"]


def test_a_stream_vigils_reader_does_not_take_goes_to_ffmpeg_from_then_on(tmp_path, monkeypatch):
    from vigil.media.rtsp.messages import UnsupportedStream

    calls = []

    def fake_open(url, *, display_url, transport, timeout_s, vigil_reader, stop):
        calls.append(vigil_reader)
        if vigil_reader:
            raise UnsupportedStream("rtsp://camera/: video in MP4V-ES")
        if len(calls) >= 4:
            stop.set()
        raise OSError("FFmpeg could not open it either")

    monkeypatch.setattr(recorder_module, "open_recording_source", fake_open)
    spec = StreamSpec("cam", "main", "rtsp://camera/", "rtsp://camera/", tmp_path, reconnect_initial_s=0.01)
    StreamRecorder(spec, lambda m: None, SystemClock()).run(threading.Event())
    # Vigil's reader once; FFmpeg's at once and a second later (a camera may still be tearing down what the
    # DESCRIBE prepared); then FFmpeg's at every reconnection
    assert calls == [True, False, False, False]
