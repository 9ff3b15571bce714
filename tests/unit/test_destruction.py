"""Destruction certificates and early deletions on a real node's catalog, files, folder tier, audit log and site key
(the node is built, not started; a fake clock): a month's certificate lists that month's deletions and nothing else,
verifies offline with the shipped verifier, and says NOT INTACT when a file, the ledger or the signature is changed;
a ledger row changed behind Vigil's back is found by the certificate and by ``vigil destruction ledger``; an early
deletion needs an admin who asks with a reason and an auditor who is someone else; held footage is never deleted;
the approved deletion goes from every tier, is ledgered with both names, audited, and is in the certificate; the API
lets only an auditor decide."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from support.node import logged_in, node_config
from vigil import verify_package
from vigil.cli import main as cli_main
from vigil.domain.destruction import EARLY_RULE, parse_period, period_of
from vigil.domain.errors import Conflict, InvalidRequest
from vigil.domain.evidence import key_fingerprint
from vigil.domain.segment import SegmentInfo
from vigil.runtime import Vigil
from vigil.storage import schema as t

S = 1_000_000


def us(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()) * S


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def now_us(self) -> int:
        return self.now


@pytest.fixture
def node(tmp_path: Path):
    (tmp_path / "nas").mkdir()
    storage = {"tiers": [{"name": "nas", "kind": "local", "path": str(tmp_path / "nas")}],
               "copies": [{"cameras": ["gate"], "tier": "nas"}]}  # fmt: skip
    config, cfg = node_config(tmp_path, {"gate": "rtsp://10.0.0.5/1", "yard": "rtsp://10.0.0.6/1"}, storage=storage)
    clock = Clock(us("2026-11-01T00:00:00"))
    vigil = Vigil(config, tmp_path, clock=clock)
    vigil.cfg_path = cfg
    yield vigil
    vigil.catalog.close()


def segment(node: Vigil, camera: str, start: str, seconds: int = 60):
    start_us = us(start)
    rel = f"{camera}/main/{start[:10]}/{start_us}.mp4"
    path = node.store.absolute(rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = os.urandom(2048)
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    info = SegmentInfo(camera, "main", rel, start_us, start_us + seconds * S, len(data), digest, "h264", 640, 360, 25)
    return node.catalog.add_segment(info)


def retention_deletes(node: Vigil, seg, at: str) -> None:
    node.clock.now = us(at)
    assert node.catalog.mark_deleting(seg.id)
    node.catalog.remove_segment(
        seg, node.clock.now, "max_age", "retention", "older than 30 days", node.store.erase(seg)
    )


def test_a_months_certificate_lists_its_deletions_and_verifies_offline(node: Vigil, tmp_path: Path, capsys) -> None:
    a, b, c = (segment(node, "gate", "2026-09-01T10:00:00"), segment(node, "yard", "2026-09-02T10:00:00"),
               segment(node, "gate", "2026-09-03T10:00:00"))  # fmt: skip
    node.mover.copy(a, "nas")  # on two tiers: deleted from both
    retention_deletes(node, a, "2026-11-03T00:00:00")
    retention_deletes(node, b, "2026-11-20T00:00:00")
    retention_deletes(node, c, "2026-12-01T00:00:01")  # December's
    node.clock.now = us("2026-12-02T00:00:00")
    made = node.certificates.make(parse_period("2026-11"), tmp_path / "cert")
    assert (made.segments, made.bytes, made.problems) == (2, a.size_bytes + b.size_bytes, ())
    manifest = json.loads((tmp_path / "cert" / "manifest.json").read_text())
    assert manifest["period"]["start"].startswith("2026-11-01T00:00:00") and manifest["destroyed"]["cameras"] == [
        "gate", "yard"]  # fmt: skip
    by = {row["camera_id"]: row for row in manifest["destroyed"]["by"]}
    assert by["gate"]["tiers"] == ["hot", "nas"] and by["gate"]["rule"] == "max_age" and by["yard"]["tiers"] == ["hot"]
    assert by["yard"]["footage_from"].startswith("2026-09-02T10:00:00")
    ledger = json.loads((tmp_path / "cert" / "ledger.json").read_text())
    assert [e["fields"]["segment_id"] for e in ledger] == [a.id, b.id]
    report = verify_package.verify(tmp_path / "cert", key_fingerprint(node.certificates.signer.public_key))
    assert report.ok and report.ledger_entries == 2, report.problems
    assert cli_main(["verify", str(tmp_path / "cert")]) == 0
    out = capsys.readouterr().out
    assert "Vigil destruction certificate" in out and "2 segment(s)" in out and "RESULT: INTACT" in out


def test_a_changed_certificate_is_not_intact(node: Vigil, tmp_path: Path) -> None:
    for k in range(3):
        retention_deletes(node, segment(node, "gate", f"2026-09-0{k + 1}T10:00:00"), f"2026-11-0{k + 2}T00:00:00")
    node.clock.now = us("2026-12-02T00:00:00")
    node.certificates.make(parse_period("2026-11"), tmp_path / "cert")

    def tampered(change) -> set[str]:
        copy = tmp_path / f"copy-{len(list(tmp_path.glob('copy-*')))}"
        shutil.copytree(tmp_path / "cert", copy)
        change(copy)
        return {p.kind for p in verify_package.verify(copy).problems}

    def drop_entry(folder: Path) -> None:  # an entry removed, the file's hash and the manifest rewritten to match
        entries = json.loads((folder / "ledger.json").read_text())
        (folder / "ledger.json").write_text(json.dumps([entries[0], entries[2]]))
        manifest = json.loads((folder / "manifest.json").read_text())
        body = (folder / "ledger.json").read_bytes()
        entry = next(f for f in manifest["files"] if f["path"] == "ledger.json")
        entry["sha256"], entry["size_bytes"] = hashlib.sha256(body).hexdigest(), len(body)
        (folder / "manifest.json").write_text(json.dumps(manifest))

    def edit_reason(folder: Path) -> None:
        text = (folder / "ledger.json").read_text()
        (folder / "ledger.json").write_text(text.replace("older than 30 days", "older than 3 days", 1))

    assert tampered(edit_reason) == {"altered", "ledger"}, "the file's hash, and the entry's own hash"
    assert tampered(drop_entry) == {"bad_signature", "ledger"}
    assert tampered(lambda f: (f / "ledger.json").unlink()) == {"missing"}


def test_a_ledger_row_changed_behind_vigils_back_is_found(node: Vigil, tmp_path: Path, capsys) -> None:
    for k in range(2):
        retention_deletes(node, segment(node, "gate", f"2026-09-0{k + 1}T10:00:00"), f"2026-11-0{k + 2}T00:00:00")
    with node.catalog._write() as conn:  # someone hides what was deleted
        conn.execute(update(t.deletion_ledger).where(t.deletion_ledger.c.id == 1).values(camera_id="yard"))
    node.clock.now = us("2026-12-02T00:00:00")
    made = node.certificates.make(parse_period("2026-11"), tmp_path / "cert")
    assert made.problems == ("ledger entry 1 was changed after it was written: its hash does not cover it",)
    report = verify_package.verify(tmp_path / "cert")
    assert {p.kind for p in report.problems} == {"ledger"} and any("changed" in p.detail for p in report.problems)
    capsys.readouterr()
    assert cli_main(["-c", str(node.cfg_path), "destruction", "ledger"]) == 1
    assert "ledger entry 1 was changed" in capsys.readouterr().out


def test_an_early_deletion_needs_an_admin_who_asks_and_another_person_who_approves(node: Vigil, tmp_path: Path) -> None:
    keep = segment(node, "gate", "2026-10-30T09:59:00")
    gone = [segment(node, "gate", "2026-10-30T10:00:00"), segment(node, "gate", "2026-10-30T10:01:00")]
    other = segment(node, "yard", "2026-10-30T10:00:00")
    node.mover.copy(gone[0], "nas")
    start, end = us("2026-10-30T10:00:00"), us("2026-10-30T10:02:00")
    with pytest.raises(InvalidRequest, match="say why"):
        node.deletions.ask("gate", start, end, "oops", "ana")
    with pytest.raises(InvalidRequest, match="no footage"):
        node.deletions.ask(
            "gate", us("2026-01-01T00:00:00"), us("2026-01-02T00:00:00"), "a private garden, by mistake", "ana"
        )
    asked = node.deletions.ask("gate", start, end, "the camera recorded a private garden by mistake", "ana")
    with pytest.raises(Conflict, match="another person"):
        node.deletions.approve(asked.id, "ana")
    assert all(node.catalog.segment(s.id) is not None for s in gone), "nothing deleted before approval"
    node.clock.now = us("2026-11-05T12:00:00")
    done = node.deletions.approve(asked.id, "otto", "checked the order")
    assert (done.state.value, done.segments, done.bytes) == ("approved", 2, sum(s.size_bytes for s in gone))
    assert all(node.catalog.segment(s.id) is None for s in gone) and not (tmp_path / "nas" / gone[0].path).exists()
    assert node.catalog.segment(keep.id) is not None and node.catalog.segment(other.id) is not None
    entries = [e for e in node.catalog.ledger() if e.rule == EARLY_RULE]
    assert (
        len(entries) == 2
        and entries[0].actor == "ana (asked), otto (approved)"
        and "private garden" in entries[0].reason
    )
    assert entries[0].tiers == "hot,nas"
    changes = [e.detail["change"] for e in node.audit.entries(action="footage_delete")]
    assert sorted(changes) == ["approved", "asked"]
    with pytest.raises(Conflict, match="approved already"):
        node.deletions.refuse(asked.id, "otto", "too late")
    node.clock.now = us("2026-12-01T08:00:00")
    node.certificates.make(parse_period("2026-11"), tmp_path / "cert")
    manifest = json.loads((tmp_path / "cert" / "manifest.json").read_text())
    [early] = manifest["early_deletions"]
    assert (early["requested_by"], early["approved_by"], early["segments"]) == ("ana", "otto", 2)
    assert verify_package.verify(tmp_path / "cert").ok


def test_held_footage_is_never_deleted_early(node: Vigil) -> None:
    segment(node, "gate", "2026-10-30T10:00:00")
    start, end = us("2026-10-30T10:00:00"), us("2026-10-30T10:01:00")
    asked = node.deletions.ask("gate", start, end, "a private place recorded by mistake", "ana")
    node.holds.place("gate", start - S, end, node.clock.now, "bob", "case 12")
    with pytest.raises(Conflict, match="legal hold"):
        node.deletions.approve(asked.id, "otto")
    with pytest.raises(Conflict, match="legal hold"):
        node.deletions.ask("gate", start, end, "a private place recorded by mistake", "ana")


def test_only_an_auditor_decides_through_the_api(node: Vigil) -> None:
    segment(node, "gate", "2026-10-30T10:00:00")
    app = node.app()
    admin = logged_in(app, node.accounts, "ana", "admin")
    body = {"camera": "gate", "start": "2026-10-30T10:00:00Z", "end": "2026-10-30T10:01:00Z",
            "reason": "court order 2026/114 to destroy"}  # fmt: skip
    viewer = logged_in(app, node.accounts, "vic", "viewer")
    assert viewer.post("/api/v1/storage/deletions", json=body).status_code == 403
    assert admin.post("/api/v1/storage/deletions", json={**body, "reason": "x"}).status_code == 400
    made = admin.post("/api/v1/storage/deletions", json=body)
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    denied = admin.post(f"/api/v1/storage/deletions/{rid}/approve", json={})
    assert denied.status_code == 403 and "auditor" in denied.text
    other_admin = logged_in(app, node.accounts, "max", "admin")
    assert other_admin.post(f"/api/v1/storage/deletions/{rid}/approve", json={}).status_code == 403
    auditor = logged_in(app, node.accounts, "otto", "auditor")
    assert auditor.post(f"/api/v1/storage/deletions/{rid}/refuse", json={}).status_code == 400, "why is needed"
    approved = auditor.post(f"/api/v1/storage/deletions/{rid}/approve", json={"note": "order seen"})
    assert approved.status_code == 200 and approved.json()["request"]["segments"] == 1
    listed = auditor.get("/api/v1/storage/deletions").json()["items"]
    assert [r["state"] for r in listed] == ["approved"]


def test_periods_and_the_certificate_of_each_ended_one(node: Vigil) -> None:
    assert parse_period("2026-W47").name == "2026-W47" and parse_period("2026-11-30").end_us == us(
        "2026-12-01T00:00:00"
    )
    assert period_of("month", us("2026-12-31T23:59:59")).name == "2026-12"
    with pytest.raises(ValueError, match="not a period"):
        parse_period("November")
    node.clock.now = us("2026-12-01T00:00:05")
    assert node.certificates.due() == [], "nothing destroyed yet: nothing to certify"
    retention_deletes(node, segment(node, "gate", "2026-09-01T10:00:00"), "2026-11-20T00:00:00")
    node.clock.now = us("2026-12-01T00:00:05")
    [made] = node.certificates.due()
    assert made.period.name == "2026-11" and made.path.name == "destruction-2026-11" and made.path.is_dir()
    assert node.certificates.due() == [], "once"
