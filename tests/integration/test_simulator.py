"""Simulated cameras, for real: a GStreamer RTSP server on 127.0.0.1 read by PyAV (FFmpeg's RTSP client)."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
import pytest

from support.media import SHARED_DATA, SYNTHETIC_DURATION_S, SYNTHETIC_FPS, requires_shared_data
from vigil.media.simulator import RtspSimulator
from vigil.media.transcode import ensure_h264, is_h264_mp4

OPEN_TIMEOUT_US = "5000000"
CLIP_FRAMES = round(SYNTHETIC_DURATION_S * SYNTHETIC_FPS)


@dataclass
class Reading:
    """What one RTSP client saw."""

    codec: str = ""
    width: int = 0
    height: int = 0
    keyframes: int = 0
    times: list[float] = field(default_factory=list)  # packet presentation times, seconds
    counters: list[int] = field(default_factory=list)  # frame numbers burned into synthetic frames

    @property
    def span_s(self) -> float:
        return self.times[-1] - self.times[0] if len(self.times) > 1 else 0.0


def frame_counter(frame: av.VideoFrame) -> int:
    """The 10-bit frame number drawn by ``synthetic_frame`` as black/white cells along the bottom."""
    gray = frame.to_ndarray(format="gray")
    height, width = gray.shape
    cell = max(2, width // 40)
    row = gray[height - 1 - cell // 2]
    return sum(1 << b for b in range(10) if row[b * cell + cell // 2] > 128)


def read_rtsp(
    url: str, stream_s: float, *, transport: str = "tcp", decode: bool = False, wall_s: float = 30.0
) -> Reading:
    """Read packets until they span ``stream_s`` seconds of stream time (or ``wall_s`` of wall time)."""
    reading = Reading()
    deadline = time.monotonic() + wall_s
    options = {"rtsp_transport": transport, "timeout": OPEN_TIMEOUT_US}
    with av.open(url, options=options) as container:
        stream = container.streams.video[0]
        reading.codec = stream.codec_context.name
        reading.width, reading.height = stream.codec_context.width, stream.codec_context.height
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            reading.keyframes += packet.is_keyframe
            if packet.pts is not None:
                reading.times.append(float(packet.pts * packet.time_base))
            if decode:
                reading.counters += [frame_counter(frame) for frame in packet.decode()]
            if reading.span_s >= stream_s or time.monotonic() > deadline:
                break
    return reading


def assert_consecutive(counters: list[int]) -> None:
    """Each frame follows the previous one in the looped clip: no frame lost, repeated or rewound."""
    assert counters, "no frame decoded"
    steps = {(b - a) % CLIP_FRAMES for a, b in itertools.pairwise(counters)}
    assert steps == {1}, f"frame numbers jump: {counters}"


def test_stream_is_h264_with_keyframes_and_loops_past_the_end(rtsp_simulator, synthetic_clip: Path) -> None:
    simulator = rtsp_simulator({"cam1": synthetic_clip})

    reading = read_rtsp(simulator.url("cam1"), 8.5, decode=True)

    assert reading.codec == "h264"
    assert (reading.width, reading.height) == (640, 360)
    assert reading.span_s >= 8.0, "the 6 s clip must keep streaming past its end"
    assert reading.keyframes >= 7  # 1 s GOP over more than 8 s
    gaps = [b - a for a, b in itertools.pairwise(reading.times)]
    assert min(gaps) > 0 and max(gaps) < 0.2, "time must run on smoothly across the loop"
    assert_consecutive(reading.counters)
    assert CLIP_FRAMES - 1 in reading.counters and reading.counters.count(0) >= 1, "the clip never looped"


def test_shared_mount_serves_two_clients_without_disturbing_the_first(rtsp_simulator, synthetic_clip: Path) -> None:
    simulator = rtsp_simulator({"cam1": synthetic_clip})
    url = simulator.url("cam1")
    first: list[Reading] = []
    reader = threading.Thread(target=lambda: first.append(read_rtsp(url, 5.0, decode=True)))
    reader.start()
    time.sleep(2.0)

    second = read_rtsp(url, 2.0, decode=True)
    reader.join(30)

    assert first and first[0].keyframes >= 4 and second.keyframes >= 2
    assert_consecutive(first[0].counters)
    assert_consecutive(second.counters)
    # A late client joins the running stream (like a camera) instead of restarting it for everyone.
    assert second.counters[0] >= SYNTHETIC_FPS, second.counters[:5]


def test_udp_transport(rtsp_simulator, synthetic_clip: Path) -> None:
    simulator = rtsp_simulator({"cam1": synthetic_clip})

    reading = read_rtsp(simulator.url("cam1"), 1.5, transport="udp")

    assert reading.codec == "h264" and reading.keyframes >= 1 and reading.span_s >= 1.5


@pytest.mark.parametrize("method", ["basic", "digest"])
def test_auth_rejects_wrong_credentials_and_accepts_right_ones(rtsp_simulator, synthetic_clip: Path, method) -> None:
    simulator = rtsp_simulator({"cam1": synthetic_clip}, username="viewer", password="s3cret:/@", auth_method=method)
    plain = simulator.url("cam1")

    for url in (plain, plain.replace("rtsp://", "rtsp://viewer:wrong@")):
        with pytest.raises(av.FFmpegError, match=r"401|[Uu]nauthori"):
            read_rtsp(url, 1.0)

    reading = read_rtsp(simulator.url("cam1", with_credentials=True), 1.0)
    assert reading.codec == "h264" and reading.keyframes >= 1


def test_h265_files_and_rtp_offsets(rtsp_simulator, hevc_clip: Path) -> None:
    simulator = rtsp_simulator({"cam1": hevc_clip}, rtp_timestamp_offset=2**32 - 90000, rtp_seqnum_offset=65000)

    reading = read_rtsp(simulator.url("cam1"), 2.5, decode=True)

    assert reading.codec == "hevc" and reading.keyframes >= 2
    gaps = [b - a for a, b in itertools.pairwise(reading.times)]
    assert min(gaps) > 0 and max(gaps) < 0.2, "FFmpeg reads on smoothly across the 32-bit wrap"


def test_restart_comes_back_on_the_same_port(rtsp_simulator, synthetic_clip: Path) -> None:
    simulator = rtsp_simulator({"cam1": synthetic_clip})
    url, port, pid = simulator.url("cam1"), simulator.port, simulator.pid
    assert simulator.running and pid is not None
    assert read_rtsp(url, 1.0).keyframes >= 1
    assert read_rtsp(url, 1.0).keyframes >= 1, "a client coming after the last one left is served too"

    simulator.stop()
    assert not simulator.running and simulator.pid is None
    with pytest.raises(av.FFmpegError):
        read_rtsp(url, 1.0)

    simulator.start()
    assert simulator.running and simulator.port == port and simulator.pid != pid
    assert simulator.url("cam1") == url
    assert read_rtsp(url, 1.0).keyframes >= 1


def test_missing_file_fails_before_starting(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.mp4"
    simulator = RtspSimulator({"cam1": missing}, log_path=tmp_path / "sim.log")

    with pytest.raises(FileNotFoundError, match=r"nowhere\.mp4"):
        simulator.start()
    assert not simulator.running


def test_a_server_that_dies_comes_back_on_the_same_port_until_stopped(rtsp_simulator, synthetic_clip: Path) -> None:
    # GStreamer's RTSP server can abort on a client's PLAY (an assertion in gst_rtsp_media_get_rates): a simulated
    # camera comes back as a rebooted camera would, and a stopped one stays stopped
    simulator = rtsp_simulator({"cam1": synthetic_clip})
    url, pid = simulator.url("cam1"), simulator.pid
    os.kill(pid, signal.SIGABRT)
    deadline = time.monotonic() + 15
    while (simulator.pid in (None, pid) or not simulator.running) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert simulator.crashes == 1 and simulator.running and simulator.pid != pid
    while True:  # (it may still be starting)
        try:
            assert read_rtsp(url, 1.0).keyframes >= 1, "served again on the same address"
            break
        except av.error.ConnectionRefusedError:
            assert time.monotonic() < deadline, "not served again"
            time.sleep(0.1)
    again = simulator.pid
    simulator.stop()
    time.sleep(0.5)
    assert not simulator.running and simulator.pid is None and simulator.crashes == 1
    with pytest.raises(ProcessLookupError):
        os.kill(again, 0)
    simulator.start()  # Ctrl-C or a kill is an end asked for, not a crash: it is not started again
    ended = simulator.pid
    os.kill(ended, signal.SIGINT)
    time.sleep(1.0)
    assert simulator.crashes == 1 and not simulator.running and simulator.pid is None


def test_unreadable_file_fails_with_the_server_log(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(b"not a video at all" * 100)
    simulator = RtspSimulator({"cam1": bogus}, log_path=tmp_path / "sim.log")

    with pytest.raises(RuntimeError, match=r"not an H\.264 MP4"):
        simulator.start()
    assert not simulator.running


def test_context_manager_stops_the_server(tmp_path: Path, synthetic_clip: Path) -> None:
    with RtspSimulator({"cam1": synthetic_clip}, log_path=tmp_path / "sim.log") as simulator:
        pid = simulator.pid
        assert simulator.running and pid is not None
        assert set(simulator.urls) == {"cam1"}
    assert not simulator.running
    assert "READY port=" in (tmp_path / "sim.log").read_text()


@requires_shared_data
@pytest.mark.shared_data
def test_old_pets_clip_is_transcoded_once_and_served(rtsp_simulator, tmp_path: Path) -> None:
    source = SHARED_DATA / "pets09-s2l1" / "vtest.avi"  # MS-MPEG4 in AVI, 768x576, 10 fps
    cache = tmp_path / "cache"

    converted = ensure_h264(source, cache)
    written = converted.stat().st_mtime_ns
    started = time.monotonic()
    again = ensure_h264(source, cache)
    elapsed = time.monotonic() - started

    assert converted.parent == cache and is_h264_mp4(converted)
    assert again == converted and converted.stat().st_mtime_ns == written and elapsed < 0.5
    assert [p.name for p in cache.iterdir()] == [converted.name], "no leftover temporary file"
    with av.open(str(converted)) as container:
        assert container.streams.video[0].average_rate == 10

    simulator = rtsp_simulator({"pets": converted})
    reading = read_rtsp(simulator.url("pets"), 2.5)
    assert reading.codec == "h264" and (reading.width, reading.height) == (768, 576)
    assert reading.keyframes >= 1


def test_a_clock_camera_shows_the_time_its_frames_were_made(tmp_path):
    """The clock camera's picture, read through real RTSP and FFmpeg's decoder, gives times within a second of
    now that advance with the frames: what the glass-to-glass benchmark relies on."""
    from vigil.media.clock_code import read_clock

    with RtspSimulator({}, clocks=["clock"], log_path=tmp_path / "sim.log") as sim:
        readings = []
        with av.open(sim.url("clock"), options={"rtsp_transport": "tcp", "timeout": OPEN_TIMEOUT_US}) as c:
            for frame in c.decode(c.streams.video[0]):
                now_ms = time.time_ns() // 1_000_000
                written = read_clock(frame.to_ndarray(format="gray"), now_ms)
                assert written is not None, "every frame of a clock camera reads"
                readings.append((now_ms, written))
                if len(readings) == 75:
                    break
    assert (frame.width, frame.height) == (640, 360)
    # the first second was buffered while FFmpeg probed the stream; after that, frames are read as they come
    delays = [now - written for now, written in readings[-25:]]
    assert all(-5 <= d < 300 for d in delays), delays  # made before it was read, and just before
    written = [w for _, w in readings]
    assert written == sorted(written) and 2500 <= written[-1] - written[0] <= 3500  # 74 frames at 25 fps
    assert read_clock(np.full((360, 640), 128, np.uint8), 0) is None  # a plain picture is no clock
