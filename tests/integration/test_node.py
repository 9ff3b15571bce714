"""A real recorder node: worker processes recording file-sourced cameras into real files and SQLite."""

import os
import signal
import sqlite3

import av
import pytest

from support.node import logged_in, node_config, wait_for
from vigil.cli import main as cli_main
from vigil.durable_files import sha256_file
from vigil.runtime import Vigil


@pytest.fixture
def node(tmp_path, synthetic_clip):
    config, _ = node_config(tmp_path, {"door": f"file://{synthetic_clip}"})
    vigil = Vigil(config, tmp_path)
    vigil.start()
    yield vigil
    vigil.stop()


def test_records_contiguous_hashed_chained_segments(node):
    segs = wait_for(
        lambda: len(node.catalog.segments("door", "main")) >= 3 and node.catalog.segments("door", "main"),
        what="3 segments",
    )
    for prev, seg in zip([None, *segs[:-1]], segs, strict=True):
        assert seg.prev_sha256 == (prev.sha256 if prev else None)
        path = node.store.absolute(seg.path)
        assert sha256_file(path) == seg.sha256 and path.stat().st_size == seg.size_bytes
        with av.open(str(path)) as c:
            packets = [p for p in c.demux(c.streams.video[0]) if p.size]
        assert len(packets) == seg.frame_count and packets[0].is_keyframe
        assert (seg.codec, seg.width, seg.height) == ("h264", 640, 360)
        assert 1_900_000 <= seg.duration_us <= 2_100_000
        if prev is not None:
            assert abs(seg.start_us - prev.end_us) < 50_000, "continuous recording leaves no gaps"
    health = wait_for(lambda: [h for h in node.catalog.health() if h.connected], what="health row")
    assert 24 <= health[0].fps <= 26 and health[0].keyframe_interval_s == pytest.approx(1.0, abs=0.1)


def test_api_serves_cameras_timeline_segments_and_seekable_clips(node):
    segs = wait_for(lambda: len(node.catalog.segments("door", "main")) >= 3 and node.catalog.segments("door", "main"))
    client = logged_in(node.app(), node.accounts)
    cams = client.get("/api/v1/cameras").json()["items"]
    assert cams[0]["id"] == "door" and cams[0]["health"]["state"] == "recording"
    start, end = segs[0].start_us, segs[2].end_us
    listed = client.get(f"/api/v1/cameras/door/segments?start={start}&end={end}").json()["items"]
    assert [s["sha256"] for s in listed][:3] == [s.sha256 for s in segs[:3]]
    tl = client.get(f"/api/v1/cameras/door/timeline?start={start - 10_000_000}&end={end}").json()
    assert len(tl["spans"]) == 1 and tl["gaps"][0]["end_us"] == start
    mid = start + 1_500_000
    full = client.get(f"/api/v1/cameras/door/clip.mp4?start={mid}&end={end - 500_000}")
    assert full.status_code == 200 and full.headers["content-type"] == "video/mp4"
    part = client.get(
        f"/api/v1/cameras/door/clip.mp4?start={mid}&end={end - 500_000}", headers={"Range": "bytes=100-199"}
    )
    assert part.status_code == 206 and part.content == full.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(full.content)}"
    # errors have one shape and the right status
    none = client.get(f"/api/v1/cameras/door/clip.mp4?start={start - 100_000_000}&end={start - 90_000_000}")
    assert none.status_code == 404 and none.json()["error"]["kind"] == "not_found"
    assert "no recorded footage" in none.json()["error"]["message"]
    assert client.get("/api/v1/cameras/nope/timeline?start=0&end=10").status_code == 404
    bad = client.get("/api/v1/cameras/door/segments?start=yesterday&end=now")
    assert bad.status_code == 400 and "start" in bad.json()["error"]["message"]
    assert client.get(f"/api/v1/cameras/door/segments?start={end}&end={start}").status_code == 400
    assert client.get("/api/v1/cameras/door/segments?start=0&end=1&stream=other").status_code == 400
    assert client.get("/").status_code == 200


def test_sigkill_of_a_recorder_worker_reading_rtsp_loses_at_most_a_second(tmp_path, synthetic_clip, rtsp_simulator):
    """The same through Vigil's own RTSP reader and segment writer (the default for RTSP cameras)."""
    sim = rtsp_simulator({"door": synthetic_clip})
    config, _ = node_config(tmp_path, {"door": sim.url("door")}, recording={"segment_duration_s": 5})
    node = Vigil(config, tmp_path)
    node.start()
    try:
        _sigkill_and_recover(node)
    finally:
        node.stop()


def _part_older_than(node, age_us):
    now = node.clock.now_us()
    return [p for p in node.store.part_files() if now - int(p.rsplit("/", 1)[1].split(".")[0]) > age_us]


def test_sigkill_of_a_recorder_worker_loses_no_readable_footage(tmp_path, synthetic_clip):
    config, _ = node_config(tmp_path, {"door": f"file://{synthetic_clip}"}, recording={"segment_duration_s": 5})
    node = Vigil(config, tmp_path)
    node.start()
    try:
        _sigkill_and_recover(node)
    finally:
        node.stop()


def _sigkill_and_recover(node):
    wait_for(lambda: len(node.catalog.segments("door", "main")) >= 1, what="first segment")
    part = wait_for(lambda: _part_older_than(node, 2_600_000), what="a segment 2.6 s into writing")[0]
    pid = node.supervisor.pids[0]
    os.kill(pid, signal.SIGKILL)
    killed_at = node.clock.now_us()
    recovered = wait_for(lambda: [s for s in node.catalog.segments("door", "main") if s.recovered], what="recovery")
    seg = recovered[0]
    assert seg.path == part.removesuffix(".part")
    assert sha256_file(node.store.absolute(seg.path)) == seg.sha256
    # fragments are flushed every second: at most about one second before the kill is lost
    assert seg.frame_count >= 25 * 2 - 1
    assert killed_at - seg.end_us < 1_300_000
    wait_for(lambda: node.supervisor.pids and node.supervisor.pids[0] != pid, what="worker restarted")
    after = wait_for(lambda: [s for s in node.catalog.segments("door", "main") if s.start_us > seg.end_us])
    gaps = node.catalog.gaps("door", "main", seg.end_us - 1, after[0].start_us + 1)
    assert gaps and gaps[0].cause == "process_down" and gaps[0].end_us is not None
    online = node.catalog.events(camera_id="door", types=["camera_online"])
    assert online and online[0].data["cause"] == "process_down"


def test_vigil_check_finds_tampering_and_repairs_what_is_safe(tmp_path, synthetic_clip, capsys):
    config, cfg_path = node_config(tmp_path, {"door": f"file://{synthetic_clip}"})
    vigil = Vigil(config, tmp_path)
    vigil.start()
    wait_for(lambda: len(vigil.catalog.segments("door", "main")) >= 5, timeout=30, what="5 segments")
    vigil.stop()
    assert cli_main(["-c", str(cfg_path), "check"]) == 0
    assert "OK: catalog and disk agree" in capsys.readouterr().out

    db = sqlite3.connect(tmp_path / "vigil.db")
    rows = db.execute("SELECT id, path FROM segments ORDER BY id").fetchall()
    root = tmp_path / "recordings"
    altered = root / rows[1][1]
    data = bytearray(altered.read_bytes())
    data[len(data) // 2] ^= 0xFF
    altered.write_bytes(bytes(data))
    (root / rows[2][1]).unlink()
    db.execute("DELETE FROM segments WHERE id = ?", (rows[3][0],))
    db.commit()
    db.close()

    assert cli_main(["-c", str(cfg_path), "check"]) == 1
    out = capsys.readouterr().out
    assert f"hash_mismatch: {rows[1][1]}" in out
    assert f"missing_file: {rows[2][1]}" in out
    assert "chain_broken" in out and "orphan_file" in out

    assert cli_main(["-c", str(cfg_path), "check", "--repair"]) == 1  # altered file and broken chain remain
    out = capsys.readouterr().out
    assert "[repaired] missing_file" in out and "[repaired] orphan_file" in out
    assert "[problem] hash_mismatch" in out
    db = sqlite3.connect(tmp_path / "vigil.db")
    ledger = db.execute("SELECT rule, path FROM deletion_ledger").fetchall()
    assert ledger == [("check_repair", rows[2][1])]


def test_retention_keeps_the_disk_budget_and_ledgers_every_deletion(tmp_path, synthetic_clip):
    config, _ = node_config(tmp_path, {"door": f"file://{synthetic_clip}"}, storage={"max_bytes": 200_000})
    vigil = Vigil(config, tmp_path)
    vigil.start()
    try:
        ledger = wait_for(lambda: len(vigil.catalog.ledger()) >= 3 and vigil.catalog.ledger(), timeout=40)
        wait_for(lambda: vigil.catalog.total_bytes() > 0)
        assert vigil.catalog.total_bytes() <= 200_000
        assert all(e.rule == "max_bytes" and e.actor == "retention" for e in ledger)
        for prev, entry in zip([None, *ledger[:-1]], ledger, strict=True):
            assert entry.prev_entry_sha256 == (prev.entry_sha256 if prev else None)
        assert not any((tmp_path / "recordings" / e.path).exists() for e in ledger)
        newest = vigil.catalog.last_segment("door", "main")
        assert newest is not None and newest.id > ledger[-1].segment_id, "recording goes on"
        remaining = vigil.catalog.all_segments()
        assert remaining[0].prev_sha256 == ledger[-1].sha256 or remaining[0].prev_sha256 in {e.sha256 for e in ledger}
    finally:
        vigil.stop()


def test_legal_minimum_wins_over_size_and_raises_a_capacity_event(tmp_path, synthetic_clip, capsys):
    config, cfg_path = node_config(
        tmp_path, {"door": f"file://{synthetic_clip}"}, storage={"max_bytes": 150_000, "min_retention_days": 30}
    )
    vigil = Vigil(config, tmp_path)
    vigil.start()
    try:
        event = wait_for(lambda: vigil.catalog.open_event("storage_capacity"), timeout=30, what="capacity event")
        assert "legal minimum" in event.description
        assert vigil.catalog.ledger() == [], "nothing younger than the legal minimum is deleted"
    finally:
        vigil.stop()
    assert cli_main(["-c", str(cfg_path), "status"]) == 1
    out = capsys.readouterr().out
    assert "30 days required" in out and "NOT ENOUGH" in out


def test_playback_streams_recorded_video_from_the_keyframe_before_the_moment(node):
    segs = wait_for(lambda: len(node.catalog.segments("door", "main")) >= 3 and node.catalog.segments("door", "main"))
    client = logged_in(node.app(), node.accounts)
    at = segs[1].start_us + 1_300_000
    answer = client.get(f"/api/v1/cameras/door/playback.mp4?start={at}&end={segs[2].end_us}&reason=checking")
    assert answer.status_code == 200 and answer.headers["content-type"] == "video/mp4"
    start_us = int(answer.headers["x-stream-start-us"])
    assert at - 1_100_000 <= start_us <= at  # the keyframe at or before the moment (1 s keyframes)
    assert answer.headers["x-codec"].startswith('video/mp4; codecs="avc1.')
    from vigil.media.fmp4 import boxes

    kinds = [b.kind for b in boxes(answer.content)]
    assert (
        kinds[:2] == [b"ftyp", b"moov"] and kinds.count(b"moof") >= 2 and kinds.count(b"moof") == kinds.count(b"mdat")
    )
    path = node.paths.cache / "stream.mp4"
    path.write_bytes(answer.content)
    with av.open(str(path)) as c:
        frames = sum(1 for _ in c.decode(video=0))
    expected = sum(s.frame_count for s in segs[1:3]) - round((start_us - segs[1].start_us) / 40_000)
    assert abs(frames - expected) <= 2
    (entry,) = node.audit.entries(action="playback", camera_id="door")
    assert entry.reason == "checking" and entry.detail["what"] == "stream"
    none = client.get(
        f"/api/v1/cameras/door/playback.mp4?start={segs[0].start_us - 90_000_000}&end={segs[0].start_us - 80_000_000}"
    )
    assert none.status_code == 404 and none.json()["error"]["kind"] == "not_found"
