"""The `vigil` command as an administrator uses it, on a real recording."""

import subprocess
import sys

import av
import pytest
import yaml

from support.node import node_config, wait_for
from vigil.cli import main as vigil
from vigil.config import load_config
from vigil.domain.timeutil import iso_from_us
from vigil.runtime import Vigil


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, synthetic_clip):
    work = tmp_path_factory.mktemp("cli")
    _, path = node_config(work, {"door": f"file://{synthetic_clip}", "gate": "rtsp://admin:hunter2@127.0.0.1:9/x"})
    doc = yaml.safe_load(path.read_text())
    doc["cameras"][0]["location"] = "Back yard"
    path.write_text(yaml.safe_dump(doc))
    node = Vigil(load_config(path), work)
    node.start()
    segs = wait_for(lambda: len(node.catalog.segments("door", "main")) >= 3 and node.catalog.segments("door", "main"))
    node.stop()
    return path, segs


def test_export_writes_one_playable_mp4(recorded, tmp_path, capsys):
    path, segs = recorded
    out = tmp_path / "clip.mp4"
    start, end = iso_from_us(segs[0].start_us + 500_000), iso_from_us(segs[2].end_us - 500_000)
    assert vigil(["-c", str(path), "export", "--camera", "door", "--start", start, "--end", end, "-o", str(out)]) == 0
    assert "from 3 segment(s)" in capsys.readouterr().out
    with av.open(str(out)) as c:
        frames = [p for p in c.demux(c.streams.video[0]) if p.size]
    assert frames[0].is_keyframe and 120 <= len(frames) <= 150


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--camera", "door", "--start", "2001-01-01T00:00:00Z", "--end", "2001-01-01T00:01:00Z"],
            "no recorded footage",
        ),
        (["--camera", "nope", "--start", "2001-01-01T00:00:00Z", "--end", "2001-01-01T00:01:00Z"], "no camera with id"),
        (["--camera", "door", "--start", "yesterday", "--end", "2001-01-01T00:01:00Z"], "not an ISO 8601 time"),
        (["--camera", "door", "--start", "2001-01-01T00:02:00Z", "--end", "2001-01-01T00:01:00Z"], "after its start"),
    ],
)
def test_export_errors_are_plain_and_exit_2(recorded, tmp_path, capsys, args, message):
    path, _ = recorded
    assert vigil(["-c", str(path), "export", *args, "-o", str(tmp_path / "x.mp4")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.mp4").exists()


def test_cameras_lists_the_register_without_passwords(recorded, capsys):
    path, _ = recorded
    assert vigil(["-c", str(path), "cameras"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and "rtsp://admin:***@127.0.0.1:9/x" in out
    assert "Back yard" in out and "gate" in out


def test_a_bad_config_is_refused_with_the_key_and_exit_2(tmp_path):
    bad = tmp_path / "vigil.yaml"
    bad.write_text("cameras:\n  - id: a\n    name: A\n    streams: {main: {url: 'http://x'}}\n    colour: red\n")
    done = subprocess.run([sys.executable, "-m", "vigil.cli", "-c", str(bad), "status"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "cameras[0].colour: unknown key" in done.stderr
    assert "cameras[0].streams.main.url: must start with rtsp://" in done.stderr
    assert "Traceback" not in done.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "vigil.cli", "-c", str(tmp_path / "none.yaml"), "check"], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "no such configuration file" in missing.stderr


def test_users_are_added_granted_listed_and_given_tokens_from_the_command_line(recorded, capsys):
    path, _ = recorded
    assert vigil(["-c", str(path), "users", "add", "Olga", "--role", "operator"]) == 0
    out = capsys.readouterr().out
    password = out.strip().splitlines()[-1]
    assert "one-time password" in out and len(password) >= 12
    grant = ["users", "grant", "olga", "--camera", "door", "--until", "2026-12-01T00:00:00Z"]
    assert vigil(["-c", str(path), *grant]) == 0
    assert vigil(["-c", str(path), "users", "token", "olga", "--name", "alarm panel"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("vgl_")
    assert vigil(["-c", str(path), "users", "list"]) == 0
    listing = capsys.readouterr().out
    assert "olga" in listing and "operator" in listing and "must change password" in listing
    assert "camera door" in listing and "2026-12-01T00:00:00" in listing
    assert password not in listing and token not in listing
    # every change is in the audit log, without the password or the token, and the chain verifies
    out_file = path.parent / "audit.jsonl"
    export = ["audit", "export", "--start", "2000-01-01T00:00:00Z", "--end", "2100-01-01T00:00:00Z", "-o"]
    assert vigil(["-c", str(path), *export, str(out_file)]) == 0
    logged = out_file.read_text()
    assert '"user_change"' in logged and '"permission_change"' in logged and '"token_change"' in logged
    assert '"olga"' in logged and "alarm panel" in logged
    assert password not in logged and token not in logged
    assert vigil(["-c", str(path), "audit", "verify"]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["users", "add", "x y", "--role", "operator"], "user name"),
        (["users", "grant", "nobody", "--all"], "no user 'nobody'"),
        (["users", "grant", "olga2", "--camera", "nowhere"], "no camera 'nowhere'"),
        (["users", "grant", "olga2", "--all", "--from", "yesterday-ish"], "--from"),
        (["users", "grant", "olga2", "--all", "--actions", "delete"], "unknown action 'delete'"),
        (["users", "grant", "olga2"], "exactly one of --camera, --site or --all"),
    ],
)
def test_bad_users_commands_are_refused_with_exit_2(recorded, capsys, args, message):
    path, _ = recorded
    if vigil(["-c", str(path), "users", "list"]) == 0 and "olga2" not in capsys.readouterr().out:
        assert vigil(["-c", str(path), "users", "add", "olga2", "--role", "viewer"]) == 0
    capsys.readouterr()
    assert vigil(["-c", str(path), *args]) == 2
    assert message in capsys.readouterr().err
