"""Legal holds against the real retention sweeper on a real catalog and real files (the age rule and the size
rule), the catalog's own check, lifting, the audit log; and the chain of custody of a package handed over."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from support.footage import T0, S, SteppingClock, recorded_site
from vigil.domain.errors import Conflict
from vigil.domain.evidence import EvidenceRequest
from vigil.domain.timeutil import US_PER_DAY
from vigil.media.synthetic import make_synthetic_clip
from vigil.storage.audit_log import SqlAuditLog
from vigil.storage.evidence_package import open_sealed
from vigil.storage.legal_holds import SqlLegalHolds
from vigil.usecases.custody import hand_over
from vigil.usecases.retention import RetentionSweeper
from vigil.verify_package import verify
from vigil.wiring import evidence_exporter


@pytest.fixture(scope="module")
def ten_seconds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_synthetic_clip(tmp_path_factory.mktemp("clip") / "ten.mp4", duration_s=10)


def site(work: Path, clip: Path, **sections):
    recorded = recorded_site(work, clip, {"gate": {"retention": {"max_age_days": 1}}, "door": {}}, **sections)
    clock = SteppingClock(T0 + 3 * US_PER_DAY)
    audit = SqlAuditLog(recorded.catalog, work / "audit.head")
    exporter = evidence_exporter(
        lambda: recorded.config, recorded.paths, recorded.catalog, recorded.store, audit, clock
    )
    holds = SqlLegalHolds(recorded.catalog)
    sweeper = RetentionSweeper(recorded.config, recorded.catalog, recorded.store, clock, holds)
    return recorded, exporter, sweeper, clock


def left(recorded, camera: str) -> list[int]:
    return [(s.start_us - T0) // S for s in recorded.catalog.segments(camera, "main")]


def test_a_hold_stops_the_age_rule_until_it_is_lifted(tmp_path: Path, ten_seconds: Path) -> None:
    recorded, exporter, sweeper, _ = site(tmp_path, ten_seconds)
    request = EvidenceRequest(("gate",), T0 + S, T0 + 5 * S, "case 9", "PC Smith", "alice")
    made = exporter.export(request, tmp_path / "case.zip")
    result = sweeper.sweep()
    assert left(recorded, "gate") == [0, 2, 4], "the segments the hold overlaps stay, whole"
    assert result.deleted == 2 and result.kept_by_hold == 3
    assert all(recorded.store.size(s.path) for s in recorded.catalog.segments("gate", "main"))
    clerk = exporter.tools.clerk
    with pytest.raises(Exception, match="reason"):
        clerk.lift(made.holds[0].id, by="admin", reason=" ", client="cli")
    clerk.lift(made.holds[0].id, by="admin", reason="case closed", client="cli")
    with pytest.raises(Conflict):
        clerk.lift(made.holds[0].id, by="admin", reason="again", client="cli")
    assert sweeper.sweep().deleted == 3 and left(recorded, "gate") == []
    entries = exporter.tools.audit.entries(action="legal_hold")
    assert [(e.detail["change"], e.actor, e.reason) for e in entries] == [
        ("lifted", "admin", "case closed"),
        ("placed", "alice", f"evidence package {made.record.id}: case 9"),
    ]
    assert (entries[1].camera_id, entries[1].range_start_us, entries[1].detail["package"]) == (
        "gate",
        T0 + S,
        made.record.id,
    )
    ledger = recorded.catalog.ledger()
    assert [e.rule for e in ledger] == ["max_age"] * 5
    recorded.catalog.close()


def test_a_hold_stops_the_size_rule_which_goes_on_to_other_footage(tmp_path: Path, ten_seconds: Path) -> None:
    storage = {"max_bytes": 1, "max_percent": None, "reserve_free": 0}
    recorded, exporter, sweeper, _ = site(tmp_path, ten_seconds, storage=storage)
    hold = exporter.tools.clerk.place("door", T0 + 5 * S, T0 + 7 * S, by="admin", reason="court order 12", client="cli")
    result = sweeper.sweep()
    assert left(recorded, "door") == [4, 6] and left(recorded, "gate") == []
    assert result.kept_by_hold == 2 and result.shortfall_bytes > 0
    assert {e.rule for e in recorded.catalog.ledger()} == {"max_bytes", "max_age"}
    exporter.tools.clerk.lift(hold.id, by="admin", reason="order expired", client="cli")
    sweeper.sweep()
    assert left(recorded, "door") == []
    recorded.catalog.close()


def test_the_catalog_refuses_to_mark_a_held_segment_even_after_planning(tmp_path: Path, ten_seconds: Path) -> None:
    recorded, exporter, _, _ = site(tmp_path, ten_seconds)
    seg = recorded.segments["gate"][1]
    exporter.tools.clerk.place(
        "gate", seg.end_us - 1, seg.end_us + 10 * S, by="admin", reason="late order", client="cli"
    )
    assert recorded.catalog.mark_deleting(seg.id) is False, "a hold placed meanwhile (another process) wins"
    assert recorded.catalog.segment(seg.id) in recorded.catalog.segments("gate", "main")
    assert recorded.catalog.mark_deleting(recorded.segments["gate"][0].id) is True
    recorded.catalog.close()


@pytest.mark.parametrize("name", ["case", "case.zip"])
def test_handing_over_appends_signed_chained_custody_entries(tmp_path: Path, ten_seconds: Path, name: str) -> None:
    recorded, exporter, _, clock = site(tmp_path, ten_seconds)
    tools = exporter.tools
    package = tmp_path / name
    exporter.export(EvidenceRequest(("door",), T0, T0 + 6 * S, "case 3", "PC Smith", "alice"), package)
    for step, (by, to) in enumerate([("PC Smith", "DS Jones, evidence store"), ("DS Jones", "Crown Prosecution")]):
        clock.now += 3600 * S
        entry = hand_over(
            open_sealed(package),
            tools.signer,
            tools.audit,
            clock,
            by=by,
            to=to,
            note=f"bag {step}",
            client="cli",
            actor="system",
        )
        assert entry["seq"] == step + 2
    report = verify(package)
    assert report.ok, report.problems
    assert [(e["action"], e["to"]) for e in report.custody] == [
        ("exported", "PC Smith"),
        ("handed_over", "DS Jones, evidence store"),
        ("handed_over", "Crown Prosecution"),
    ]
    audited = tools.audit.entries(action="custody")
    assert [(e.detail["seq"], e.detail["to"], e.reason) for e in audited] == [
        (3, "Crown Prosecution", "bag 1"),
        (2, "DS Jones, evidence store", "bag 0"),
    ]
    with pytest.raises(Conflict):
        open_sealed(package).append("custody/0002.json", b"{}")
    recorded.catalog.close()


def test_custody_entries_removed_or_reordered_show(tmp_path: Path, ten_seconds: Path) -> None:
    recorded, exporter, _, clock = site(tmp_path, ten_seconds)
    tools = exporter.tools
    package = tmp_path / "case"
    exporter.export(EvidenceRequest(("door",), T0, T0 + 6 * S, "case 3", "PC Smith", "alice"), package)
    for to in ("B", "C"):
        hand_over(
            open_sealed(package), tools.signer, tools.audit, clock, by="A", to=to, note="", client="cli", actor="system"
        )
    removed = tmp_path / "removed"
    shutil.copytree(package, removed)
    (removed / "custody/0002.json").unlink()
    found = [str(p) for p in verify(removed).problems]
    assert found == [
        "custody: custody/0003.json: custody entry 0002 is missing before it (removed)",
        "custody: custody/0003.json: does not follow custody/0001.json (its prev_sha256 is another file's hash)",
    ]
    swapped = tmp_path / "swapped"
    shutil.copytree(package, swapped)
    two, three = (swapped / "custody/0002.json").read_bytes(), (swapped / "custody/0003.json").read_bytes()
    (swapped / "custody/0002.json").write_bytes(three)
    (swapped / "custody/0003.json").write_bytes(two)
    assert {p.kind for p in verify(swapped).problems} == {"custody"}
    recorded.catalog.close()


def test_custody_is_never_added_to_a_package_that_fails_verification(tmp_path: Path, ten_seconds: Path) -> None:
    from vigil.cli import main

    recorded, exporter, _, _ = site(tmp_path, ten_seconds)
    package = tmp_path / "case"
    exporter.export(EvidenceRequest(("door",), T0, T0 + 6 * S, "case 3", "PC Smith", "alice"), package)
    recorded.catalog.close()
    manifest = json.loads((package / "manifest.json").read_text())
    (package / manifest["files"][0]["path"]).write_bytes(b"replaced")
    config = str(recorded.config_path)
    assert main(["-c", config, "evidence", "handover", str(package), "--to", "X", "--by", "Y"]) == 1
    assert sorted(p.name for p in (package / "custody").iterdir()) == ["0001.json"]
