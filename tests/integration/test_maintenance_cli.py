"""``vigil equipment``, ``vigil tickets`` and ``vigil availability`` as an administrator runs them: real processes on a
real catalog. A switch is registered and a camera linked to it (a cycle refused with a clear error and exit code 2),
a datasheet kept, a ticket opened, acknowledged and resolved (refused without the work done), listed, written as CSV;
availability of a camera with a known gap comes out to the second."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from vigil.domain.segment import GapCause, SegmentInfo
from vigil.storage.catalog import SqlCatalog, sqlite_url

T0 = 1_764_000_000_000_000  # 2025-11-24T16:00:00Z
S = 1_000_000


def vigil(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil.cli", "-c", str(config), *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def site(tmp_path: Path) -> Path:
    config = tmp_path / "vigil.yaml"
    config.write_text(
        "storage:\n  root: recordings\ncameras:\n"
        "  - {id: gate, name: Gate, streams: {main: {url: 'rtsp://10.0.0.5/1'}}, device: {model: DS-2CD, serial: E1}}\n"
    )
    catalog = SqlCatalog(sqlite_url(tmp_path / "vigil.db"))
    catalog.add_segment(SegmentInfo("gate", "main", "gate/a.mp4", T0, T0 + 60 * S, 10, "0" * 64, "h264", 64, 36, 1))
    catalog.open_gap("gate", "main", T0 + 3600 * S, GapCause.TIMEOUT)
    catalog.close_gap("gate", "main", T0 + 3600 * S + 754 * S)  # 12 min 34 s
    catalog.close()
    return config


def test_the_register_tickets_and_availability_from_the_command_line(site: Path, tmp_path: Path) -> None:
    r = vigil(site, "equipment", "add", "sw-1", "--kind", "switch", "--name", "Gate switch", "--set", "ip=10.0.0.2")
    assert r.returncode == 0, r.stderr
    assert vigil(site, "equipment", "set", "gate", "depends_on=sw-1@7", "firmware=V5.7").returncode == 0
    bad = vigil(site, "equipment", "set", "sw-1", "depends_on=gate")
    assert bad.returncode == 2 and "cycle: sw-1 -> gate -> sw-1" in bad.stderr
    listing = vigil(site, "equipment", "list").stdout
    assert "gate" in listing and "sw-1@7" in listing and "DS-2CD" in listing
    sheet = tmp_path / "datasheet.pdf"
    sheet.write_bytes(b"%PDF-1.4\n" + b"x" * 200)
    assert vigil(site, "equipment", "document", "sw-1", str(sheet)).returncode == 0
    fake = tmp_path / "fake.pdf"
    fake.write_bytes(b"MZ\x90\x00 not a pdf")
    refused = vigil(site, "equipment", "document", "sw-1", str(fake))
    assert refused.returncode == 2 and "not a PDF" in refused.stderr
    shown = vigil(site, "equipment", "show", "sw-1").stdout
    assert "datasheet.pdf" in shown and "registered" in shown

    opened = vigil(site, "tickets", "open", "gate", "--kind", "blurred", "--note", "seen on patrol", "--by", "ana")
    assert opened.returncode == 0 and "ticket 1 is open" in opened.stdout, opened.stderr
    assert vigil(site, "tickets", "ack", "1", "--by", "ana").returncode == 0
    no_work = vigil(site, "tickets", "resolve", "1")
    assert no_work.returncode == 2 and "--work" in no_work.stderr
    done = vigil(site, "tickets", "resolve", "1", "--work", "refocused", "cleaned", "--minutes", "25", "--by", "bob")
    assert done.returncode == 0 and "resolved" in done.stdout
    assert "resolved" in vigil(site, "tickets", "list").stdout
    history = vigil(site, "tickets", "show", "1").stdout
    assert "acknowledged" in history and "bob" in history
    out = tmp_path / "tickets.csv"
    assert vigil(site, "tickets", "csv", "--start", "2000-01-01T00:00:00Z", "--end", "2100-01-01T00:00:00Z",
                 "-o", str(out)).returncode == 0  # fmt: skip
    [row] = list(csv.DictReader(out.open()))
    assert (row["equipment_id"], row["kind"], row["state"], row["work_done"]) == ("gate", "blurred", "resolved",
                                                                                  "refocused cleaned")  # fmt: skip

    a = vigil(site, "availability", "--camera", "gate", "--start", "2025-11-24T16:00:00Z",
              "--end", "2025-11-24T20:00:00Z", "--json")  # fmt: skip
    assert a.returncode == 0, a.stderr
    [figures] = json.loads(a.stdout)
    assert figures["whole"]["unplanned_down_s"] == 754 and figures["whole"]["outages"] == 1
    assert figures["whole"]["observed_s"] == 4 * 3600
    wrong = vigil(site, "availability", "--start", "2025-11-24T20:00:00Z", "--end", "2025-11-24T16:00:00Z")
    assert wrong.returncode == 2 and "end: must be after start" in wrong.stderr
