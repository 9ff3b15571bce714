"""The recorder against real RTSP servers (GStreamer on 127.0.0.1) and broken inputs."""

import itertools
import time

import pytest

from support.broken import broken_timestamps_ts, raw_h264
from support.media import SHARED_DATA, requires_shared_data
from support.node import node_config, wait_for
from support.recorder_run import Run, packets
from vigil.domain.reports import HealthSample, SegmentClosed, StreamDown, StreamUp
from vigil.durable_files import sha256_file
from vigil.media.transcode import ensure_h264
from vigil.runtime import Vigil


def test_records_an_rtsp_camera_continuously(tmp_path, synthetic_clip, rtsp_simulator):
    sim = rtsp_simulator({"cam": synthetic_clip})
    with Run(tmp_path, sim.url("cam"), segment_duration_s=2) as run:
        wait_for(lambda: len(run.of(SegmentClosed)) >= 4, timeout=30, what="4 segments")
    segs = [m.info for m in run.of(SegmentClosed)]
    for prev, seg in itertools.pairwise(segs):
        assert seg.start_us == prev.end_us, "segments of one connection touch exactly"
    for seg in segs[:4]:
        pk = packets(run.root / seg.path)
        assert pk[0].is_keyframe and len(pk) == seg.frame_count
        dts = [p.dts for p in pk]
        assert dts == sorted(set(dts))
        assert sha256_file(run.root / seg.path) == seg.sha256
    total_s = (segs[3].end_us - segs[0].start_us) / 1e6
    frames = sum(s.frame_count for s in segs[:4])
    assert abs(frames - 25 * total_s) <= 2, "no frame lost over the loop boundary"


def test_a_stream_that_stops_mid_segment_and_returns(tmp_path, synthetic_clip, rtsp_simulator):
    sim = rtsp_simulator({"cam": synthetic_clip})
    config, _ = node_config(tmp_path, {"cam": sim.url("cam")}, recording={"segment_duration_s": 4})
    node = Vigil(config, tmp_path)
    node.start()
    try:
        wait_for(lambda: len(node.catalog.segments("cam", "main")) >= 1, what="first segment")
        time.sleep(1.5)  # mid-segment
        sim.stop()
        outage_start = time.time()
        offline = wait_for(lambda: node.catalog.open_event("camera_offline", "cam"), what="offline event")
        time.sleep(3)
        sim.start()
        online = wait_for(lambda: node.catalog.events(camera_id="cam", types=["camera_online"]), timeout=30)
        outage_s = time.time() - outage_start
        segs = wait_for(lambda: [s for s in node.catalog.segments("cam", "main") if s.start_us > offline.start_us])
    finally:
        node.stop()
    data = online[0].data
    assert data["cause"] in {"stream_ended", "timeout", "stream_error"}
    assert 2.5 <= data["downtime_s"] <= outage_s + 1.5
    gaps = node.catalog.gaps("cam", "main", offline.start_us - 1, segs[0].start_us + 1)
    assert gaps and abs(gaps[0].end_us - segs[0].start_us) < 1_000_000
    assert "back online" in online[0].description


def test_wrong_credentials_are_reported_as_such_and_never_shown(tmp_path, synthetic_clip, rtsp_simulator):
    sim = rtsp_simulator({"cam": synthetic_clip}, username="admin", password="right-one")
    bad = sim.url("cam").replace("rtsp://", "rtsp://admin:wrong-one@")
    shown = sim.url("cam").replace("rtsp://", "rtsp://admin:***@")
    with Run(tmp_path, bad, display=shown) as run:
        down = wait_for(lambda: run.of(StreamDown), what="auth failure")
    assert down[0].cause == "auth_failed"
    assert not run.of(SegmentClosed)
    assert all("wrong-one" not in repr(m) for m in run.messages)
    good = sim.url("cam").replace("rtsp://", "rtsp://admin:right-one@")
    with Run(tmp_path, good, display=shown, segment_duration_s=1) as run:
        wait_for(lambda: run.of(SegmentClosed), what="a segment with the right password")


def test_an_unreachable_camera_backs_off_and_keeps_trying(tmp_path):
    with Run(tmp_path, "rtsp://127.0.0.1:9/none") as run:
        wait_for(lambda: len(run.of(HealthSample)) >= 1, what="health")
        time.sleep(2.5)
    downs = run.of(StreamDown)
    assert downs and downs[0].cause == "unreachable"
    assert len(downs) == 1, "a camera that stays down is reported once, not at every retry"
    assert not run.of(StreamUp)


@pytest.mark.parametrize("maker", [broken_timestamps_ts, raw_h264], ids=["dup-back-forward-dts", "no-timestamps"])
def test_clips_with_broken_timestamps_are_recorded_whole(tmp_path, synthetic_clip, maker):
    clip = maker(synthetic_clip, tmp_path)
    with Run(tmp_path, f"file://{clip}", segment_duration_s=2) as run:
        wait_for(lambda: len(run.of(SegmentClosed)) >= 4, timeout=40, what="segments")
    assert not [m for m in run.of(StreamDown) if m.cause == "stream_error"]
    segs = [m.info for m in run.of(SegmentClosed)]
    for seg in segs:
        pk = packets(run.root / seg.path)
        dts = [p.dts for p in pk]
        assert dts == sorted(set(dts)) and len(pk) == seg.frame_count
    if maker is broken_timestamps_ts:
        assert run.recorder.stats.repaired > 0
    # wall-clock spans follow the frames, not the broken clock: ~25 frames a second
    total_s = (segs[-1].end_us - segs[0].start_us) / 1e6
    assert abs(sum(s.frame_count for s in segs) / total_s - 25) < 2


@requires_shared_data
def test_records_real_footage_served_over_rtsp(tmp_path, rtsp_simulator):
    clip = ensure_h264(SHARED_DATA / "pets09-s2l1" / "vtest.avi", tmp_path / "cache")
    sim = rtsp_simulator({"pets": clip})
    with Run(tmp_path, sim.url("pets"), segment_duration_s=2) as run:
        wait_for(lambda: len(run.of(SegmentClosed)) >= 2, timeout=30)
    seg = run.of(SegmentClosed)[0].info
    assert (seg.width, seg.height, seg.codec) == (768, 576, "h264")
    health = [h for h in run.of(HealthSample) if h.connected and h.fps]
    assert health and abs(health[-1].fps - 10) < 1.5
