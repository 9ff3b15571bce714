"""Vigil as separate processes: `vigil serve` killed with SIGKILL and started again; `vigil simulate`."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

import av

from support.node import node_config, wait_for
from vigil.commands.serve import free_port


def _serve(cfg, log):
    return subprocess.Popen(
        [sys.executable, "-m", "vigil.cli", "-c", str(cfg), "serve", "--port", str(free_port("127.0.0.1"))],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _rows(db):
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT path, frame_count, recovered FROM segments ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # the file exists but the migration has not created the tables yet
        return []


def _causes(db) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT cause FROM gaps")]


def test_sigkill_of_vigil_serve_then_restart_recovers_the_segment_in_progress(tmp_path, synthetic_clip):
    _, cfg = node_config(tmp_path, {"door": f"file://{synthetic_clip}"}, recording={"segment_duration_s": 5})
    parts = lambda: list((tmp_path / "recordings").rglob("*.part"))  # noqa: E731
    with (tmp_path / "serve.log").open("w") as log:
        proc = _serve(cfg, log)
        try:
            wait_for(lambda: (tmp_path / "vigil.db").exists() and _rows(tmp_path / "vigil.db"), timeout=30)
            wait_for(lambda: [p for p in parts() if time.time() - int(p.name.split(".")[0]) / 1e6 > 2.5], timeout=20)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: main process and workers
            proc.wait()
        left = parts()
        assert left, "a segment was being written when Vigil died"
        before = _rows(tmp_path / "vigil.db")
        proc = _serve(cfg, log)
        try:
            rows = wait_for(lambda: [r for r in _rows(tmp_path / "vigil.db") if r[2]], timeout=30, what="recovery")
            # the process_down gap is written just after recovery: wait for it too before stopping the node
            wait_for(lambda: "process_down" in _causes(tmp_path / "vigil.db"), timeout=30, what="process_down gap")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    assert rows[0][0] == str(left[0].relative_to(tmp_path / "recordings")).removesuffix(".part")
    assert rows[0][1] >= 2 * 25 - 1, "all but at most a second of the segment in progress is kept"
    assert len(_rows(tmp_path / "vigil.db")) > len(before)
    assert "process_down" in _causes(tmp_path / "vigil.db")


def test_vigil_simulate_serves_a_folder_of_clips(tmp_path, synthetic_clip):
    media = tmp_path / "media"
    media.mkdir()
    (media / "Front Door.mp4").write_bytes(synthetic_clip.read_bytes())
    port = free_port("127.0.0.1")
    with (tmp_path / "sim.log").open("w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vigil.cli",
                "simulate",
                "--media",
                str(media),
                "--port",
                str(port),
                "--cache",
                str(tmp_path / "cache"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"rtsp://127.0.0.1:{port}/front-door"
            wait_for(lambda: url in (tmp_path / "sim.log").read_text(), timeout=20, what="the URL")
            with av.open(url, options={"rtsp_transport": "tcp"}, timeout=15) as c:
                codec = c.streams.video[0].codec_context.name
                packet = next(p for p in c.demux(c.streams.video[0]) if p.size)
            assert codec == "h264" and packet.size > 0
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0
    bad = subprocess.run(
        [sys.executable, "-m", "vigil.cli", "simulate", "--media", str(tmp_path / "none")],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "is not a folder" in bad.stderr
