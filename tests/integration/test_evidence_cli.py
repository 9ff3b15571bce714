"""``vigil evidence``, ``vigil verify`` and ``vigil hold`` as an administrator runs them: real processes on a real
recorded catalog."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from support.footage import T0, S, recorded_site
from vigil.domain.timeutil import iso_from_us
from vigil.media.synthetic import make_synthetic_clip


def vigil(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", "-c", str(config), *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    clip = make_synthetic_clip(tmp_path / "six.mp4", duration_s=6)
    site = recorded_site(tmp_path, clip, {"gate": {}, "door": {"gaps_us": (2 * S,)}})
    site.catalog.close()
    return site.config_path


def test_export_verify_hand_over_list_and_the_key(config: Path, tmp_path: Path) -> None:
    span = ("--start", iso_from_us(T0 + S), "--end", iso_from_us(T0 + 7 * S))
    package = tmp_path / "case 7"
    records = tmp_path / "incident.json"
    records.write_text(json.dumps({"incident": 7, "notes": ["gate forced"]}))
    done = vigil(
        config, "evidence", "export", "--camera", "gate", "--camera", "door", *span, "--reason", "case 7",
        "--recipient", "PC Smith", "--by", "alice", "--record", f"incident={records}", "-o", str(package),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "wrote evidence package ev-" in done.stdout and "checked after writing: intact" in done.stdout
    assert "gap on door" in done.stdout and "unknown" in done.stdout
    assert json.loads((package / "records/incident.json").read_text())["incident"] == 7
    key = config.parent / "site.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    seed = key.read_text().splitlines()[1]
    shown = vigil(config, "evidence", "key")
    assert shown.returncode == 0 and "fingerprint:" in shown.stdout
    assert seed not in shown.stdout + done.stdout + shown.stderr + done.stderr, "the secret is never shown"
    fingerprint = shown.stdout.split("fingerprint:")[1].strip()
    checked = vigil(config, "verify", str(package), "--expect-fingerprint", fingerprint)
    assert checked.returncode == 0 and "RESULT: INTACT" in checked.stdout
    handed = vigil(
        config, "evidence", "handover", str(package), "--to", "DS Jones", "--by", "PC Smith", "--note", "bag 7"
    )
    assert handed.returncode == 0 and "custody entry 2" in handed.stdout, handed.stdout + handed.stderr
    assert "custody 2:" in vigil(config, "verify", str(package)).stdout
    listed = vigil(config, "evidence", "list")
    assert listed.returncode == 0 and "by alice for PC Smith" in listed.stdout and "reason: case 7" in listed.stdout
    (package / "clips" / "extra.mp4").write_bytes(b"not ours")
    bad = vigil(config, "verify", str(package))
    assert bad.returncode == 1 and "PROBLEM added: clips/extra.mp4" in bad.stdout
    missing = vigil(config, "verify", str(tmp_path / "nothing-here"))
    assert missing.returncode == 2 and "neither a package folder nor a .zip" in missing.stderr


def test_holds_from_the_command_line_and_in_status(config: Path, tmp_path: Path) -> None:
    span = ("--start", iso_from_us(T0), "--end", iso_from_us(T0 + 4 * S))
    placed = vigil(config, "hold", "place", "--camera", "gate", *span, "--reason", "court order 5", "--by", "carol")
    assert placed.returncode == 0 and "placed legal hold 1" in placed.stdout, placed.stderr
    assert vigil(config, "hold", "place", "--camera", "nowhere", *span, "--reason", "x").returncode == 2
    assert vigil(config, "hold", "place", "--camera", "gate", *span, "--reason", " ").returncode == 2
    status = vigil(config, "status")
    assert "Legal holds: 1 active" in status.stdout and "hold 1: gate" in status.stdout
    assert "2 segment(s)" in status.stdout and "court order 5" in status.stdout
    listed = vigil(config, "hold", "list")
    assert "hold 1: gate" in listed.stdout and "placed" in listed.stdout and "by carol" in listed.stdout
    lifted = vigil(config, "hold", "lift", "1", "--reason", "order expired", "--by", "carol")
    assert lifted.returncode == 0 and "lifted legal hold 1" in lifted.stdout
    assert vigil(config, "hold", "lift", "1", "--reason", "again").returncode == 2
    assert "0 hold(s)" in vigil(config, "hold", "list").stdout
    everything = vigil(config, "hold", "list", "--all").stdout
    assert "lifted" in everything and "order expired" in everything
    exported = tmp_path / "audit.jsonl"
    vigil(config, "audit", "export", "--start", "2000-01-01T00:00:00Z", "--end", "2100-01-01T00:00:00Z",
          "--action", "legal_hold", "-o", str(exported))  # fmt: skip
    acts = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [(a["actor"], a["detail"]["change"], a["detail"]["by"]) for a in acts] == [
        ("system", "lifted", "carol"),
        ("system", "placed", "carol"),
    ]
