"""An evidence package from a real node: a camera recorded by a real recorder worker, exported through the API,
downloaded, and checked by the standalone verifier in a plain Python; retention on the node keeps the held
footage."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import av

from support.node import logged_in, node_config, wait_for
from support.verifier import plain_python
from vigil.runtime import Vigil


def test_a_recording_node_exports_a_package_that_verifies_offline(tmp_path: Path, synthetic_clip: Path) -> None:
    config, _ = node_config(tmp_path, {"door": f"file://{synthetic_clip}"})
    node = Vigil(config, tmp_path)
    node.start()
    try:
        segs = wait_for(
            lambda: len(node.catalog.segments("door", "main")) >= 3 and node.catalog.segments("door", "main")
        )
        client = logged_in(node.app(), node.accounts)
        start, end = segs[0].start_us + 500_000, segs[2].end_us
        body = {"cameras": ["door"], "start": start, "end": end, "reason": "break-in", "recipient": "PC Smith"}
        made = client.post("/api/v1/evidence", json=body)
        assert made.status_code == 201, made.text
        package = made.json()
        assert package["gap_count"] == 0 and package["cameras"] == ["door"]
        got = client.get(package["download_url"])
        assert got.status_code == 200
        assert [h.package_id for h in node.holds.active()] == [package["id"]]
        assert node.sweeper.sweep().kept_by_hold == 0, "nothing is due yet; the hold is in place for when it is"
    finally:
        node.stop()
    saved = tmp_path / "received.zip"
    saved.write_bytes(got.content)
    with zipfile.ZipFile(saved) as zf:
        zf.extractall(tmp_path / "received")
        clips = [n for n in zf.namelist() if n.startswith("clips/")]
    python, env = plain_python(tmp_path)
    done = subprocess.run(
        [*python, "verify_package.py", "--expect-fingerprint", package["key_fingerprint"]],
        capture_output=True, text=True, env=env, cwd=tmp_path / "received", timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and "RESULT: INTACT" in done.stdout, done.stdout + done.stderr
    assert len(clips) == 1
    with av.open(str(tmp_path / "received" / clips[0])) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames >= 2 * 25, "at least the two whole segments after the start, decodable"
