"""Evidence packages from a real recorded catalog: real segment files, real clips, a real zip and folder, the
standalone verifier run in a plain Python that has PyNaCl and nothing else (not even Vigil), and every way of
tampering the issue names."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from support.footage import T0, RecordedSite, S, SteppingClock, recorded_site
from support.segments import decode_counters
from support.verifier import plain_python, run_verifier
from vigil.domain.evidence import EvidenceRequest, canonical_json, document_bytes, signature_document
from vigil.domain.segment import GapCause
from vigil.media.synthetic import make_synthetic_clip
from vigil.storage.audit_log import SqlAuditLog
from vigil.usecases.evidence import EvidenceExporter
from vigil.verify_package import verify
from vigil.wiring import evidence_exporter


@pytest.fixture(scope="module")
def ten_seconds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 s of 640x360 H.264 at 25 fps, a keyframe every second, a frame counter drawn in each frame."""
    return make_synthetic_clip(tmp_path_factory.mktemp("clip") / "ten.mp4", duration_s=10)


class Site:
    def __init__(self, recorded: RecordedSite, exporter: EvidenceExporter, clock: SteppingClock) -> None:
        self.recorded, self.exporter, self.clock = recorded, exporter, clock
        self.catalog = recorded.catalog
        self.audit = exporter.tools.audit

    def export(self, out: Path, cameras=("gate", "door"), start_s=1, end_s=12, **kw) -> dict:
        request = EvidenceRequest(cameras, T0 + start_s * S, T0 + end_s * S, "case 2025/114", "PC Smith", "alice", **kw)
        return self.exporter.export(request, out).manifest


def build_site(work: Path, clip: Path, **sections) -> Site:
    """gate: 0-10 s in five 2 s segments, the one at 4-6 s deleted by retention (in the ledger); door: 0-4 s and
    7-13 s, the recorder's timeout gap between; an event with a snapshot; playback audited in and out of range."""
    recorded = recorded_site(work, clip, {"gate": {}, "door": {"gaps_us": (0, 3 * S)}}, **sections)
    catalog, store = recorded.catalog, recorded.store
    gone = recorded.segments["gate"][2]
    assert catalog.mark_deleting(gone.id)
    store.delete(gone.path)
    catalog.remove_segment(gone, T0 + 20 * S, "max_age", "retention", "older than the camera's maximum age")
    catalog.open_gap("door", "main", T0 + 4 * S, GapCause.TIMEOUT, "no video for 3 s")
    catalog.close_gap("door", "main", T0 + 7 * S)
    shot = recorded.paths.snapshots / "gate" / "2025-11-24" / "e1.jpg"
    shot.parent.mkdir(parents=True)
    shot.write_bytes(b"\xff\xd8\xff\xe0 a snapshot")
    digest = hashlib.sha256(shot.read_bytes()).hexdigest()
    data = {"snapshot": "gate/2025-11-24/e1.jpg", "snapshot_sha256": digest}
    catalog.add_event("zone_enter", T0 + 3 * S, "A person entered zone 'Gate'", camera_id="gate", data=data)
    catalog.add_event("motion", T0 + 8 * S, "Motion", camera_id="door", end_us=T0 + 9 * S)
    catalog.add_event("motion", T0 + 30 * S, "Later motion", camera_id="door", end_us=T0 + 31 * S)
    clock = SteppingClock(T0 + 3600 * S)
    audit = SqlAuditLog(catalog, work / "audit.head")
    audit.append(T0 + 60 * S, "olga", "playback", camera_id="gate", range_start_us=T0, range_end_us=T0 + 5 * S)
    audit.append(
        T0 + 61 * S, "olga", "playback", camera_id="gate", range_start_us=T0 + 50 * S, range_end_us=T0 + 60 * S
    )
    exporter = evidence_exporter(lambda: recorded.config, recorded.paths, catalog, store, audit, clock)
    return Site(recorded, exporter, clock)


@pytest.fixture
def site(tmp_path: Path, ten_seconds: Path):
    s = build_site(tmp_path, ten_seconds)
    yield s
    s.catalog.close()


def problems(done: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.removeprefix("PROBLEM ") for line in done.stdout.splitlines() if line.startswith("PROBLEM ")]


def test_a_zip_package_holds_clips_records_and_a_signed_manifest_that_states_every_gap(
    site: Site, tmp_path: Path
) -> None:
    manifest = site.export(tmp_path / "case.zip")
    clips = {(c["camera_id"], c["start_us"] - T0, c["end_us"] - T0) for c in manifest["clips"]}
    assert clips == {("gate", S, 4 * S), ("gate", 6 * S, 10 * S), ("door", S, 4 * S), ("door", 7 * S, 12 * S)}
    gaps = [(g["camera_id"], (g["start_us"] - T0) // S, (g["end_us"] - T0) // S, g["cause"]) for g in manifest["gaps"]]
    assert gaps == [("gate", 4, 6, "deleted"), ("gate", 10, 12, "unknown"), ("door", 4, 7, "timeout")]
    deleted = manifest["gaps"][0]["segments"][0]
    assert (deleted["rule"], deleted["actor"], deleted["deleted_us"]) == ("max_age", "retention", T0 + 20 * S)
    after_gap = next(c for c in manifest["clips"] if c["camera_id"] == "gate" and c["start_us"] == T0 + 6 * S)
    assert after_gap["sources"][0]["chain_link"] == "deleted_segment", "the chain goes through the ledgered deletion"
    assert [s["chain_link"] for s in manifest["clips"][0]["sources"]] == ["start_of_stream", "previous_source"]
    recorded = {s.sha256 for segs in site.recorded.segments.values() for s in segs}
    assert {s["sha256"] for c in manifest["clips"] for s in c["sources"]} <= recorded
    assert manifest["counts"] == {"clips": 4, "gaps": 3, "events": 2, "snapshots": 1, "audit_entries": 3}
    assert manifest["request"]["recipient"] == "PC Smith" and manifest["request"]["start"].endswith("01.000000Z")
    assert len(manifest["legal_holds"]) == 2 and manifest["problems"] == []
    with zipfile.ZipFile(tmp_path / "case.zip") as zf:
        names = zf.namelist()
        assert names[:4] == ["README.txt", "verify_package.py", "manifest.json", "manifest.sig"]
        assert "custody/0001.json" in names and "snapshots/gate/event-1.jpg" in names
        events = json.loads(zf.read("records/events.json"))
        audit = json.loads(zf.read("records/audit.json"))
        clip = zf.extract("clips/gate/gate_main_20251124T160001Z.mp4", tmp_path / "out")
        assert zf.getinfo("clips/gate/gate_main_20251124T160001Z.mp4").compress_type == zipfile.ZIP_STORED
    assert [e["description"] for e in events] == ["A person entered zone 'Gate'", "Motion"]
    assert events[0]["snapshot"] == "snapshots/gate/event-1.jpg"
    assert [(a["actor"], a["action"]) for a in audit] == [
        ("olga", "playback"),
        ("alice", "legal_hold"),
        ("alice", "legal_hold"),
    ]
    assert decode_counters(Path(clip)) == list(range(25, 100)), "frames 1 s to 4 s, copied, in order"


def test_the_standalone_verifier_needs_only_python_and_pynacl(site: Site, tmp_path: Path) -> None:
    site.export(tmp_path / "case.zip")
    python, env = plain_python(tmp_path)
    bare = subprocess.run([*python, "-c", "import vigil"], capture_output=True, text=True, env=env)
    assert bare.returncode != 0, "vigil must not be importable in the recipient's Python"
    with zipfile.ZipFile(tmp_path / "case.zip") as zf:
        zf.extractall(tmp_path / "unzipped")
    done = run_verifier(tmp_path, "verify_package.py", cwd=tmp_path / "unzipped")  # checks its own folder
    assert done.returncode == 0, done.stdout + done.stderr
    assert "RESULT: INTACT" in done.stdout and "custody 1:" in done.stdout and "gap on door" in done.stdout
    zipped = run_verifier(tmp_path, str(tmp_path / "unzipped" / "verify_package.py"), str(tmp_path / "case.zip"))
    assert zipped.returncode == 0, zipped.stdout
    fingerprint = site.exporter.tools.signer.public_key
    expected = hashlib.sha256(fingerprint).hexdigest()
    spaced = " ".join(expected[i : i + 4] for i in range(0, 64, 4)).upper()
    right = run_verifier(tmp_path, "verify_package.py", "--expect-fingerprint", spaced, cwd=tmp_path / "unzipped")
    assert right.returncode == 0, right.stdout
    without_nacl = subprocess.run(
        [*python, "verify_package.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path / "unzipped",
        env={"PATH": os.environ["PATH"]},
    )
    assert without_nacl.returncode == 2 and "pip install pynacl" in without_nacl.stderr


def clip_size(package: Path) -> int:
    with zipfile.ZipFile(package) as zf:
        return zf.getinfo("clips/door/door_main_20251124T160007Z.mp4").file_size


def flip_byte(path: Path, at: int = 2000) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def resign(folder: Path, key: SigningKey, change: dict) -> None:
    """What a forger with another key does: edit the manifest, name their own key in it, sign it, and re-sign
    custody entry 1 so that it links to the new manifest."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["request"].update(change)
    public = bytes(key.verify_key)
    manifest["site"]["public_key"] = public.hex()
    manifest["site"]["key_fingerprint"] = hashlib.sha256(public).hexdigest()
    body = document_bytes(manifest)
    (folder / "manifest.json").write_bytes(body)
    (folder / "manifest.sig").write_bytes(signature_document(public, key.sign(body).signature))
    custody = json.loads((folder / "custody/0001.json").read_text())
    entry = {**custody["entry"], "prev_sha256": hashlib.sha256(body).hexdigest(), "public_key": public.hex()}
    signed = {"entry": entry, "signature": key.sign(canonical_json(entry)).signature.hex()}
    (folder / "custody/0001.json").write_bytes(document_bytes(signed))


def tamper_cases(folder: Path) -> dict[str, tuple]:
    clip = "clips/gate/gate_main_20251124T160001Z.mp4"
    other = SigningKey.generate()

    def replace_signature(f: Path) -> None:
        sig = json.loads((f / "manifest.sig").read_text())
        sig["signature"] = other.sign((f / "manifest.json").read_bytes()).signature.hex()
        (f / "manifest.sig").write_text(json.dumps(sig))

    def edit_manifest(f: Path) -> None:
        text = (f / "manifest.json").read_text().replace('"recipient": "PC Smith"', '"recipient": "Somebody else"')
        (f / "manifest.json").write_text(text)

    def edit_custody(f: Path) -> None:
        text = (f / "custody/0001.json").read_text().replace('"to": "PC Smith"', '"to": "Somebody else"')
        (f / "custody/0001.json").write_text(text)

    return {
        "flipped byte": (lambda f: flip_byte(f / clip), [f"altered: {clip}:"]),
        "removed file": (lambda f: (f / "records/events.json").unlink(), ["missing: records/events.json:"]),
        "added file": (lambda f: (f / "notes.txt").write_text("mine"), ["added: notes.txt:"]),
        "replaced signature": (replace_signature, ["bad_signature: manifest.sig: the signature does not match"]),
        "edited manifest": (
            edit_manifest,
            [
                "bad_signature: manifest.sig: the signature does not match",
                "custody: custody/0001.json: does not follow",
            ],
        ),
        "edited custody": (edit_custody, ["custody: custody/0001.json: its signature does not match"]),
        "removed signature": (lambda f: (f / "manifest.sig").unlink(), ["missing: manifest.sig:"]),
        "re-signed, no fingerprint expected": (lambda f: resign(f, other, {"recipient": "X"}), []),
    }


def test_each_kind_of_tampering_is_named_exactly(site: Site, tmp_path: Path) -> None:
    original = tmp_path / "case"
    site.export(original)
    for name, (tamper, expected) in tamper_cases(original).items():
        copy = tmp_path / name.replace(" ", "-").replace(",", "")
        shutil.copytree(original, copy)
        tamper(copy)
        done = run_verifier(tmp_path, str(copy / "verify_package.py"), str(copy))
        found = problems(done)
        assert len(found) == len(expected), (name, found)
        for want, got in zip(expected, found, strict=True):
            assert got.startswith(want), (name, got)
        assert done.returncode == (1 if expected else 0), (name, done.stdout)


def test_a_package_re_signed_with_another_key_fails_against_the_sites_fingerprint(site: Site, tmp_path: Path) -> None:
    folder = tmp_path / "case"
    site.export(folder)
    fingerprint = hashlib.sha256(site.exporter.tools.signer.public_key).hexdigest()
    resign(folder, SigningKey.generate(), {"reason": "nothing to see"})
    done = run_verifier(tmp_path, str(folder / "verify_package.py"), str(folder), "--expect-fingerprint", fingerprint)
    assert done.returncode == 1
    assert [p.split(":")[0] for p in problems(done)] == ["wrong_key"], done.stdout
    signed_by = verify(folder).fingerprint
    assert signed_by != fingerprint and signed_by in done.stdout


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_tampering_inside_a_zip_is_found_too(site: Site, tmp_path: Path) -> None:
    package = tmp_path / "case.zip"
    site.export(package)
    clip = "clips/door/door_main_20251124T160007Z.mp4"
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(forged, "w") as dst:
        for info in src.infolist():
            data = bytearray(src.read(info))
            if info.filename == clip:
                data[3000] ^= 0x80
            dst.writestr(info, bytes(data))
    assert [str(p).split(" bytes")[0] for p in verify(forged).problems] == [f"altered: {clip}: {clip_size(forged)}"]
    with zipfile.ZipFile(package, "a") as zf:
        zf.writestr("extra/readme.md", "added")
        zf.writestr("records/gaps.json", "[]")  # a second member of the same name, hiding the first
    kinds = sorted(p.kind for p in verify(package).problems)
    assert kinds == ["added", "altered", "duplicate"]


def test_a_source_segment_altered_on_disk_is_left_out_and_named(site: Site, tmp_path: Path) -> None:
    door = site.recorded.segments["door"][3]  # 9-11 s
    flip_byte(site.recorded.store.absolute(door.path), 5000)
    manifest = site.export(tmp_path / "case", cameras=("door",))
    gaps = [((g["start_us"] - T0) // S, (g["end_us"] - T0) // S, g["cause"]) for g in manifest["gaps"]]
    assert gaps == [(4, 7, "timeout"), (9, 11, "altered")]
    assert manifest["gaps"][1]["segments"][0]["sha256"] == door.sha256
    assert any("altered" in p for p in manifest["problems"])
    assert verify(tmp_path / "case").ok, "the package itself is intact: it says what it lacks"


def test_a_failed_export_publishes_nothing_and_lifts_the_holds_it_placed(site: Site, tmp_path: Path) -> None:
    class BrokenKey:
        public_key = bytes(32)

        def sign(self, message: bytes) -> bytes:
            raise OSError("the key store is gone")

    broken = EvidenceExporter(replace(site.exporter.tools, signer=BrokenKey()))
    request = EvidenceRequest(("gate",), T0, T0 + 5 * S, "case", "PC Smith", "alice")
    with pytest.raises(OSError, match="key store"):
        broken.export(request, tmp_path / "case.zip")
    assert not (tmp_path / "case.zip").exists() and not list(tmp_path.glob(".case.zip*"))
    assert site.exporter.tools.clerk.holds.active() == []
    changes = [e.detail["change"] for e in site.audit.entries(action="legal_hold")]
    assert changes == ["lifted", "placed"]


def test_a_range_with_no_footage_makes_a_package_that_says_why(site: Site, tmp_path: Path) -> None:
    site.catalog.open_gap("door", "main", T0 + 20 * S, GapCause.UNREACHABLE, "connection refused")
    site.catalog.close_gap("door", "main", T0 + 40 * S)
    manifest = site.export(tmp_path / "empty", cameras=("door",), start_s=20, end_s=30)
    assert manifest["clips"] == [] and manifest["counts"]["events"] == 0
    assert [(g["cause"], g["detail"]) for g in manifest["gaps"]] == [("unreachable", "connection refused")]
    assert verify(tmp_path / "empty").ok


def test_an_export_never_overwrites_and_names_what_is_wrong(site: Site, tmp_path: Path) -> None:
    (tmp_path / "taken.zip").write_bytes(b"")
    with pytest.raises(Exception, match="exists already"):
        site.export(tmp_path / "taken.zip")
    with pytest.raises(Exception, match="recipient"):
        site.exporter.export(EvidenceRequest(("gate",), T0, T0 + S, "case", " ", "alice"), tmp_path / "x.zip")
    with pytest.raises(Exception, match="no camera"):
        site.export(tmp_path / "y.zip", cameras=("nowhere",))
    assert site.exporter.tools.clerk.holds.active() == []
