"""``vigil audit verify`` and ``vigil audit export`` as an administrator runs them: real processes on a real
catalog, tampered with sqlite3 the way someone with shell access could."""

import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from vigil.domain.audit import AuditAction
from vigil.domain.timeutil import iso_from_us
from vigil.storage.audit_log import SqlAuditLog
from vigil.storage.catalog import SqlCatalog, sqlite_url

T0 = 1_764_000_000_000_000
S = 1_000_000


def vigil(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", "-c", str(config), "audit", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A configuration whose catalog (``vigil.db`` beside ``recordings/``) holds 20 audit entries."""
    config = tmp_path / "vigil.yaml"
    config.write_text("cameras: []\nstorage:\n  root: recordings\n")
    catalog = SqlCatalog(sqlite_url(tmp_path / "vigil.db"))
    log = SqlAuditLog(catalog)
    for k in range(20):
        log.append(
            T0 + k * 60 * S,
            ["alice", "bob"][k % 2],
            [AuditAction.LIVE_START, AuditAction.PLAYBACK][k % 2],
            camera_id=["door", "yard"][k // 10],
            range_start_us=T0 - 3600 * S,
            range_end_us=T0 - 1800 * S,
            client="10.1.2.3",
            reason=f"case {k}, 调查",
        )
    catalog.close()
    return config


def test_verify_exits_0_when_intact_and_1_naming_each_problem(site: Path) -> None:
    done = vigil(site, "verify")
    assert done.returncode == 0, done.stderr
    assert "checked 20 audit entries" in done.stdout and "OK: the audit log is intact" in done.stdout
    head = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("head: "))
    db = sqlite3.connect(site.parent / "vigil.db")
    with db:
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("DROP TRIGGER audit_no_delete")
        db.execute("UPDATE audit SET reason = 'nothing' WHERE seq = 3")
        db.execute("DELETE FROM audit WHERE seq = 7 OR seq > 18")
    db.close()
    done = vigil(site, "verify", "--expect-head", head)
    assert done.returncode == 1
    problems = [line.strip() for line in done.stdout.splitlines() if "[problem]" in line]
    assert problems == [
        "[problem] seq 3: altered: its fields do not match its hash: changed after it was written",
        "[problem] seq 7: missing: entry 7 is missing (removed)",
        "[problem] seq 19: truncated: entries after seq 18 are missing: the head anchor records seq 20 "
        "(the newest entries were removed)",
    ], done.stdout
    assert "3 problem(s) found" in done.stdout


def test_export_writes_the_filtered_entries_and_is_itself_audited(site: Path) -> None:
    out = site.parent / "bob-door.csv"
    window = ("--start", iso_from_us(T0 + 60 * S), "--end", iso_from_us(T0 + 15 * 60 * S))
    done = vigil(site, "export", *window, "--actor", "bob", "--camera", "door", "--action", "playback", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}: 5 entries" in done.stdout and "recorded as audit entry 21" in done.stdout
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["seq"]) for r in rows] == [10, 8, 6, 4, 2]
    assert {(r["actor"], r["camera_id"], r["action"], r["client"]) for r in rows} == {
        ("bob", "door", "playback", "10.1.2.3")
    }
    assert rows[0]["reason"] == "case 9, 调查" and rows[0]["time"] == iso_from_us(T0 + 9 * 60 * S)
    assert not list(site.parent.glob("*.part"))

    lines = site.parent / "all.jsonl"
    done = vigil(site, "export", "--start", "2025-01-01T00:00:00Z", "--end", "2030-01-01", "-o", str(lines))
    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in lines.read_text(encoding="utf-8").splitlines()]
    assert [e["seq"] for e in entries] == list(range(21, 0, -1)), "the first export is in the log too"
    first_export = entries[0]
    assert (first_export["actor"], first_export["action"], first_export["client"]) == ("system", "audit_export", "cli")
    assert first_export["detail"]["entries"] == 5 and first_export["detail"]["file"] == str(out.resolve())
    assert first_export["detail"]["filters"] == {"actor": "bob", "action": "playback", "camera_id": "door"}


DAY = ["--start", "2026-01-01", "--end", "2026-01-02"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "--start", "yesterday", "--end", "2026-01-01T00:00:00Z", "-o", "x.csv"], "not an ISO 8601 time"),
        (["export", "--start", "2026-01-02", "--end", "2026-01-01", "-o", "x.csv"], "end: must be after start"),
        (["export", *DAY, "--action", "peek", "-o", "x.csv"], "invalid choice"),
        (["export", *DAY, "-o", "x.xlsx"], "must end in .csv or .jsonl"),
        (["export", *DAY, "-o", "/nonexistent/x.csv"], "no folder"),
        (["export", "--end", "2026-01-02", "-o", "x.csv"], "the following arguments are required: --start"),
        (["verify", "--expect-head", "12:abc"], "not a head"),
        (["rewrite"], "invalid choice"),
    ],
    ids=["bad date", "end before start", "unknown action", "bad format", "no folder", "no start", "bad head", "verb"],
)
def test_bad_input_is_a_clear_error_with_exit_code_2(site: Path, args: list[str], message: str) -> None:
    done = vigil(site, *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not list(site.parent.glob("x.*"))
