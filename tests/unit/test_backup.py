"""System backups and ``vigil restore`` on a real node's files (built, not started) with a folder tier: a backup holds
the catalog (an online copy), vigil.yaml and its history, the plans, the audit anchor, the sealed site key and the
evidence packages, each read back; a restore into a new folder brings them back byte for byte, the audit chain and
the catalog verify and the key is the same; an incomplete backup, an altered file or manifest, a file added or
missing, a wrong passphrase or a target that exists are refused with what is wrong, and nothing is restored; only the
newest ``keep`` backups stay."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from support.node import node_config
from vigil.cli import main as cli_main
from vigil.domain.audit import AuditAction
from vigil.domain.errors import InvalidRequest, StorageError
from vigil.domain.segment import SegmentInfo
from vigil.runtime import Vigil
from vigil.storage.backup_restore import backup_names, restore
from vigil.storage.local_tier import LocalTier
from vigil.wiring import node_files

PHRASE = "correct horse battery staple"
S = 1_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 1_796_000_000 * S

    def now_us(self) -> int:
        return self.now


def make_node(tmp_path: Path, keep: int = 14) -> Vigil:
    (tmp_path / "nas").mkdir(exist_ok=True)
    storage = {"tiers": [{"name": "nas", "kind": "local", "path": str(tmp_path / "nas")}],
               "backup": {"tier": "nas", "keep": keep}}  # fmt: skip
    (tmp_path / "old").mkdir(exist_ok=True)
    config, _ = node_config(tmp_path / "old", {"gate": "rtsp://10.0.0.5/1"}, storage=storage)
    node = Vigil(config, tmp_path / "old", clock=Clock())
    data = os.urandom(4096)
    rel = "gate/main/2026-12-01/1.mp4"
    node.store.absolute(rel).parent.mkdir(parents=True, exist_ok=True)
    node.store.absolute(rel).write_bytes(data)
    node.catalog.add_segment(SegmentInfo("gate", "main", rel, S, 61 * S, 4096, hashlib.sha256(data).hexdigest(),
                                         "h264", 640, 360, 1500))  # fmt: skip
    node.audit.append(node.clock.now, "ana", AuditAction.EXPORT, camera_id="gate", reason="for the police")
    node.paths.evidence.mkdir(parents=True, exist_ok=True)
    (node.paths.evidence / "ev-1.zip").write_bytes(b"a package")
    assert len(node.certificates.signer.public_key) == 32  # the site key exists
    return node


@pytest.fixture
def node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VIGIL_BACKUP_PASSPHRASE", PHRASE)
    n = make_node(tmp_path)
    yield n
    n.catalog.close()


def nas(tmp_path: Path) -> LocalTier:
    return LocalTier("nas", tmp_path / "nas")


def test_a_backup_restores_into_a_new_folder_whole(node: Vigil, tmp_path: Path, capsys) -> None:
    made = node.backups.run()
    assert made.with_key and made.files >= 5 and node.backups.names() == [made.name]
    keys = set(nas(tmp_path).keys("backups/"))
    for name in ("catalog/vigil.db", "config/vigil.yaml", "catalog/audit.head", "catalog/site.key.sealed",
                 "evidence/ev-1.zip", "manifest.json", "manifest.sig"):  # fmt: skip
        assert f"backups/{made.name}/{name}" in keys
    sealed = (tmp_path / "nas" / "backups" / made.name / "catalog" / "site.key.sealed").read_text()
    assert PHRASE not in sealed and node.certificates.signer.public_key.hex() in sealed
    node.clock.now += 60 * S
    node.audit.append(node.clock.now, "ana", AuditAction.EXPORT, camera_id="gate", reason="after the backup")
    capsys.readouterr()
    assert cli_main(["restore", "--folder", str(tmp_path / "nas"), "--to", str(tmp_path / "new")]) == 0
    out = capsys.readouterr().out
    assert f"restored backup {made.name}" in out and "lost with the old machine: 1 segment(s)" in out, out
    new = tmp_path / "new"
    assert (new / "vigil.yaml").read_text() == (tmp_path / "old" / "vigil.yaml").read_text()
    assert (new / "evidence" / "ev-1.zip").read_bytes() == b"a package"
    assert (new / "site.key").read_text() == (tmp_path / "old" / "site.key").read_text()
    assert oct((new / "site.key").stat().st_mode & 0o777) == "0o600"
    assert cli_main(["-c", str(new / "vigil.yaml"), "audit", "verify"]) == 0, "the chain and the anchor agree"
    assert cli_main(["-c", str(new / "vigil.yaml"), "check", "--no-hashes"]) == 0
    out = capsys.readouterr().out
    assert "OK" in out


def test_bad_backups_are_refused_and_nothing_is_restored(node: Vigil, tmp_path: Path, monkeypatch) -> None:
    made = node.backups.run()
    where = tmp_path / "nas" / "backups" / made.name
    target = tmp_path / "new" / "vigil.yaml"

    def refused(match: str, error: type[Exception] = StorageError, **kw) -> None:
        with pytest.raises(error, match=match):
            restore(nas(tmp_path), target, kw.get("phrase", PHRASE), node_files, kw.get("name"))
        assert not target.parent.exists() or not any(target.parent.iterdir()), "nothing restored"

    catalog = where / "catalog" / "vigil.db"
    original = catalog.read_bytes()
    catalog.write_bytes(original[:100] + b"\0" + original[101:])
    refused(r"catalog/vigil.db was altered")
    catalog.write_bytes(original)
    (where / "evidence" / "ev-1.zip").unlink()
    refused(r"evidence/ev-1.zip is missing from the backup")
    (where / "evidence" / "ev-1.zip").write_bytes(b"a package")
    (where / "evidence" / "planted.zip").write_bytes(b"x")
    refused(r"planted.zip is in the backup but not in its manifest")
    (where / "evidence" / "planted.zip").unlink()
    manifest = where / "manifest.json"
    doc = json.loads(manifest.read_text())
    text = manifest.read_text()
    doc["files"] = [f for f in doc["files"] if f["path"] != "evidence/ev-1.zip"]
    manifest.write_text(json.dumps(doc))
    refused(r"the manifest was altered")
    manifest.write_text(text)
    refused(r"wrong passphrase", InvalidRequest, phrase="not the passphrase at all")
    refused(r"give it", InvalidRequest, phrase=None)
    manifest.unlink()
    refused(r"incomplete", name=made.name)
    refused(r"holds no whole backup \(incomplete: " + made.name)
    manifest.write_text(text)
    with pytest.raises(StorageError, match="does not exist"):
        restore(LocalTier("nas", tmp_path / "unmounted"), target, PHRASE, node_files)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("cameras: []\n")
    with pytest.raises(InvalidRequest, match="exists"):
        restore(nas(tmp_path), target, PHRASE, node_files)
    assert target.read_text() == "cameras: []\n", "an existing node is never overwritten"


def test_without_a_passphrase_the_key_stays_out_and_the_newest_backups_are_kept(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("VIGIL_BACKUP_PASSPHRASE", raising=False)
    node = make_node(tmp_path, keep=2)
    names = []
    for _ in range(4):
        made = node.backups.run()
        assert not made.with_key
        names.append(made.name)
        node.clock.now += 3600 * S
    assert node.backups.names() == names[-2:], "the newest two"
    assert backup_names(nas(tmp_path)) == (names[-2:], [])
    done = restore(nas(tmp_path), tmp_path / "new" / "vigil.yaml", None, node_files)
    assert not done.key_restored and not (tmp_path / "new" / "site.key").exists()
    assert node.backups.due() is False
    node.clock.now += 25 * 3600 * S
    assert node.backups.due() is True, "every_hours (24) after the newest"
    node.catalog.close()
