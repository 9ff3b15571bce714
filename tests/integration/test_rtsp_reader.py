"""Vigil's own RTSP reader and segment writer against a real RTSP server (GStreamer on 127.0.0.1): what it records
is what FFmpeg reads from the same camera at the same moment, decodes without an error and makes clips; H.265,
Digest authentication, rtsps://, 32-bit timestamp and sequence wrap-around, packet loss, keep-alive, and the
fall-back to FFmpeg's reader for a codec it does not take."""

from __future__ import annotations

import hashlib
import itertools
import subprocess
import threading
import time

import av
import pytest

from support.media import SHARED_DATA, requires_shared_data
from support.node import wait_for
from support.recorder_run import Run, packets
from support.segments import decode_counters
from support.stall_proxy import StallProxy
from vigil.domain.reports import HealthSample, SegmentClosed, StreamDown
from vigil.durable_files import sha256_file
from vigil.media.clip import ClipPart, write_clip
from vigil.media.fmp4 import nal_units
from vigil.media.transcode import ensure_h264


def decode_errors(path) -> str:
    done = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True
    )
    return done.stderr.strip()


def check_segments(run, segs, fps):
    """Every segment: as reported, keyframe first, strictly increasing timestamps, its hash, decodes cleanly."""
    for prev, seg in itertools.pairwise(segs):
        assert seg.start_us == prev.end_us, "segments of one connection touch exactly"
    for seg in segs:
        path = run.root / seg.path
        pk = packets(path)
        assert pk[0].is_keyframe and len(pk) == seg.frame_count
        dts = [p.dts for p in pk]
        assert dts == sorted(set(dts))
        assert sha256_file(path) == seg.sha256
        assert decode_errors(path) == ""
        duration_s = sum(p.duration for p in pk) * pk[0].time_base
        assert abs(float(duration_s) - seg.duration_us / 1e6) < 2 / fps


def unit_digest(nals) -> str:
    """An access unit's identity: its picture's NAL units (parameter sets and SEI aside: the two readers may
    place them differently)."""
    return hashlib.sha256(b"".join(n for n in nals if n and n[0] & 0x1F in (1, 5))).hexdigest()


def ffmpeg_reading(url, seconds, out):
    with av.open(url, options={"rtsp_transport": "tcp"}, timeout=(10, 10)) as container:
        stream = container.streams.video[0]
        started = time.monotonic()
        for packet in container.demux(stream):
            if packet.size:
                out.append(unit_digest(list(nal_units(bytes(packet)))))
            if time.monotonic() - started > seconds:
                return


def file_digests(path):
    digests = []
    for packet in packets(path):
        data, at, nals = bytes(packet), 0, []
        while at < len(data):
            size = int.from_bytes(data[at : at + 4], "big")
            nals.append(data[at + 4 : at + 4 + size])
            at += 4 + size
        digests.append(unit_digest(nals))
    return digests


@requires_shared_data
@pytest.mark.shared_data
def test_records_what_ffmpeg_reads_from_the_same_camera(tmp_path, rtsp_simulator):
    clip = ensure_h264(SHARED_DATA / "intel-samples" / "person-bicycle-car-detection.mp4", tmp_path / "cache")
    sim = rtsp_simulator({"cam": clip})
    seen: list[str] = []
    reader = threading.Thread(target=ffmpeg_reading, args=(sim.url("cam"), 9, seen), daemon=True)
    with Run(tmp_path, sim.url("cam"), segment_duration_s=2) as run:
        reader.start()
        wait_for(lambda: len(run.of(SegmentClosed)) >= 3, timeout=60, what="3 segments")
        reader.join(20)
    segs = [m.info for m in run.of(SegmentClosed)]
    with av.open(str(clip)) as container:
        fps = float(container.streams.video[0].average_rate)
    check_segments(run, segs, fps)
    recorded = [d for seg in segs for d in file_digests(run.root / seg.path)]
    # FFmpeg joins the camera after the recorder (it probes first): compare from the first picture both have
    first = next(i for i, d in enumerate(recorded) if d in set(seen))
    start = seen.index(recorded[first])
    overlap = min(len(recorded) - first, len(seen) - start)
    assert overlap > 3 * fps
    assert recorded[first : first + overlap] == seen[start : start + overlap], "picture for picture what FFmpeg reads"
    clip_out = write_clip(
        [ClipPart(run.root / s.path, s.start_us, s.end_us) for s in segs],
        segs[0].start_us + 500_000,
        segs[2].end_us - 500_000,
        tmp_path / "clip.mp4",
    )
    assert clip_out.frame_count > 0 and decode_errors(clip_out.path) == ""


def test_h265_camera(tmp_path, hevc_clip, rtsp_simulator):
    sim = rtsp_simulator({"cam": hevc_clip})
    with Run(tmp_path, sim.url("cam"), segment_duration_s=1) as run:
        wait_for(lambda: len(run.of(SegmentClosed)) >= 3, timeout=30, what="3 segments")
    segs = [m.info for m in run.of(SegmentClosed)]
    assert {(s.codec, s.width, s.height) for s in segs} == {("hevc", 640, 360)}
    check_segments(run, segs, 25)


def test_digest_authentication(tmp_path, synthetic_clip, rtsp_simulator):
    sim = rtsp_simulator({"cam": synthetic_clip}, username="admin", password="dig:est", auth_method="digest")
    with Run(tmp_path, sim.url("cam").replace("rtsp://", "rtsp://admin:wrong@"), display="cam") as run:
        down = wait_for(lambda: run.of(StreamDown), what="auth failure")
    assert down[0].cause == "auth_failed" and "refused the credentials (401)" in down[0].detail
    assert all("wrong" not in repr(m) for m in run.messages)
    with Run(tmp_path, sim.url("cam", with_credentials=True), display="cam", segment_duration_s=1) as run:
        wait_for(lambda: run.of(SegmentClosed), what="a segment with the right password")
    with Run(tmp_path, sim.url("cam"), display="cam") as run:
        down = wait_for(lambda: run.of(StreamDown), what="no credentials")
    assert down[0].cause == "auth_failed" and "none are configured" in down[0].detail


def test_timestamps_and_sequence_numbers_wrap_around_while_recording(tmp_path, synthetic_clip, rtsp_simulator):
    # the RTP clock passes 2**32 about 2 s after the stream starts (and the 16-bit sequence numbers at once)
    sim = rtsp_simulator({"cam": synthetic_clip}, rtp_timestamp_offset=2**32 - 90000 * 2, rtp_seqnum_offset=65500)
    with Run(tmp_path, sim.url("cam"), segment_duration_s=1) as run:
        wait_for(lambda: len(run.of(SegmentClosed)) >= 5, timeout=30, what="5 segments")
    segs = [m.info for m in run.of(SegmentClosed)]
    check_segments(run, segs, 25)
    frames = sum(s.frame_count for s in segs)
    assert abs(frames - 25 * (segs[-1].end_us - segs[0].start_us) / 1e6) <= 2, "no frame lost at the wrap"
    assert run.recorder.stats.repaired == 0, "nothing to repair: the timestamps were extended, not rebased"


def test_lost_packets_drop_damaged_pictures_and_are_counted(tmp_path, synthetic_clip, rtsp_simulator):
    sim = rtsp_simulator({"cam": synthetic_clip})
    proxy = StallProxy(sim.port)
    try:
        with Run(tmp_path, proxy.url("cam"), segment_duration_s=2) as run:
            wait_for(lambda: run.of(SegmentClosed), timeout=30, what="a first segment")
            proxy.lose_fragments(3)
            wait_for(lambda: proxy.lost == 3, what="three fragments lost")
            wait_for(lambda: len(run.of(SegmentClosed)) >= 4, timeout=30, what="4 segments")
            health = wait_for(lambda: [h for h in run.of(HealthSample) if h.lost_packets], what="loss reported")
    finally:
        proxy.close()
    assert health[-1].lost_packets == 3 and health[-1].dropped_frames >= 3
    segs = [m.info for m in run.of(SegmentClosed)]
    for seg in segs:
        path = run.root / seg.path
        assert decode_errors(path) == "", "what is written decodes without an error"
        assert len(packets(path)) == seg.frame_count and packets(path)[0].is_keyframe
    span_s = (segs[-1].end_us - segs[0].start_us) / 1e6
    missing = 25 * span_s - sum(s.frame_count for s in segs)
    assert health[-1].dropped_frames - 2 <= missing <= health[-1].dropped_frames + 2


def test_codecs_the_reader_does_not_take_are_recorded_through_ffmpeg(tmp_path, synthetic_clip, rtsp_simulator):
    mpeg4 = tmp_path / "mpeg4.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(synthetic_clip), "-c:v", "mpeg4", "-q:v", "5", str(mpeg4)],
        check=True,
    )
    sim = rtsp_simulator({"cam": mpeg4})
    with Run(tmp_path, sim.url("cam"), segment_duration_s=1) as run:
        wait_for(lambda: len(run.of(SegmentClosed)) >= 2, timeout=30, what="2 segments")
    assert {m.info.codec for m in run.of(SegmentClosed)} == {"mpeg4"}
    assert not run.of(StreamDown)


@pytest.mark.parametrize("reader", ["vigil", "ffmpeg"])
def test_both_readers_record_the_same_camera_alike(tmp_path, synthetic_clip, rtsp_simulator, reader):
    sim = rtsp_simulator({"cam": synthetic_clip})
    with Run(tmp_path, sim.url("cam"), segment_duration_s=2, rtsp_reader=reader) as run:
        wait_for(lambda: len(run.of(SegmentClosed)) >= 3, timeout=30, what="3 segments")
    segs = [m.info for m in run.of(SegmentClosed)]
    check_segments(run, segs, 25)
    assert {(s.codec, s.width, s.height) for s in segs} == {("h264", 640, 360)}


def test_the_session_is_kept_alive(tmp_path, synthetic_clip, rtsp_simulator):
    sim = rtsp_simulator({"cam": synthetic_clip}, session_timeout_s=4)
    proxy = StallProxy(sim.port)
    try:
        with Run(tmp_path, proxy.url("cam"), segment_duration_s=2) as run:
            wait_for(lambda: len(run.of(SegmentClosed)) >= 5, timeout=30, what="10 s of recording")
    finally:
        proxy.close()
    methods = [line.split(b" ", 1)[0].decode() for line in proxy.requests]
    assert methods[:4] == ["OPTIONS", "DESCRIBE", "SETUP", "PLAY"]
    assert methods.count("GET_PARAMETER") >= 3, "every half session timeout (2 s)"
    assert not run.of(StreamDown)
    segs = [m.info for m in run.of(SegmentClosed)]
    assert all(b.start_us == a.end_us for a, b in itertools.pairwise(segs)), "one connection throughout"


def test_rtsps_with_digest(tmp_path, synthetic_clip, rtsp_simulator):
    pem, key, cert = tmp_path / "server.pem", tmp_path / "key.pem", tmp_path / "cert.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    subprocess.run([*command, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    pem.write_bytes(cert.read_bytes() + key.read_bytes())
    sim = rtsp_simulator({"cam": synthetic_clip}, username="u", password="p", auth_method="digest", tls_pem=pem)
    assert sim.url("cam").startswith("rtsps://")
    with Run(tmp_path, sim.url("cam", with_credentials=True), display="cam", segment_duration_s=1) as run:
        wait_for(lambda: len(run.of(SegmentClosed)) >= 3, timeout=30, what="3 segments over TLS")
    segs = [m.info for m in run.of(SegmentClosed)]
    check_segments(run, segs, 25)
    assert all(h.lost_packets == 0 and h.dropped_frames == 0 for h in run.of(HealthSample))


def test_b_pictures_keep_their_order(tmp_path, bframes_clip, rtsp_simulator):
    """RTP carries presentation times only: decode times are derived (reorder depth from the SPS), and every
    segment decodes to consecutive pictures."""
    sim = rtsp_simulator({"cam": bframes_clip})
    with Run(tmp_path, sim.url("cam"), segment_duration_s=1) as run:
        wait_for(lambda: len(run.of(SegmentClosed)) >= 4, timeout=30, what="4 segments")
    segs = [m.info for m in run.of(SegmentClosed)]
    check_segments(run, segs, 25)
    for seg in segs[:-1]:  # (the last one was cut by the stop, maybe between a P-picture and its B-pictures)
        pk = packets(run.root / seg.path)
        assert any(p.pts > p.dts for p in pk), "reordered pictures have a composition offset"
        counters = decode_counters(run.root / seg.path)
        assert len(counters) == seg.frame_count
        assert {(b - a) % 100 for a, b in itertools.pairwise(counters)} == {1}, counters
