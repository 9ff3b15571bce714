"""A real small filesystem (tmpfs, needs root to mount): retention keeps it from filling while recording
goes on; and when the legal minimum forbids deleting, a full disk stops recording without losing anything
already written, and recording resumes once there is room."""

import errno
import os
import shutil
import subprocess
import threading
import time

import av
import pytest

from support.node import node_config, wait_for
from vigil.durable_files import sha256_file
from vigil.media.synthetic import make_synthetic_clip
from vigil.runtime import Vigil

MB = 2**20


@pytest.fixture
def small_volume(tmp_path):
    mount = tmp_path / "volume"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture(scope="module")
def heavy_clip(tmp_path_factory):
    """~4 Mb/s: fills 6 MB in about 12 s."""
    return make_synthetic_clip(tmp_path_factory.mktemp("heavy") / "heavy.mp4", 640, 360, 25, 4, 1, 4000, noise=24)


def sample_usage(path, stop, peaks):
    while not stop.is_set():
        peaks.append(shutil.disk_usage(path).used)
        time.sleep(0.05)


def on_volume(tmp_path, volume, clip, **storage):
    """A node recording ``clip`` onto the small volume; its catalog stays off the volume."""
    storage = {"root": str(volume / "rec"), "catalog_url": f"sqlite:///{tmp_path / 'vigil.db'}", **storage}
    config, _ = node_config(tmp_path, {"door": f"file://{clip}"}, storage=storage)
    return config


def test_retention_runs_ahead_so_the_volume_never_fills(tmp_path, small_volume, heavy_clip):
    config = on_volume(tmp_path, small_volume, heavy_clip, max_percent=85, reserve_free=256 * 1024)
    node = Vigil(config, tmp_path)
    stop, peaks = threading.Event(), []
    sampler = threading.Thread(target=sample_usage, args=(small_volume, stop, peaks), daemon=True)
    node.start()
    sampler.start()
    try:
        wait_for(lambda: len(node.catalog.ledger()) >= 6, timeout=60, what="six deletions")
    finally:
        stop.set()
        node.stop()
    total = shutil.disk_usage(small_volume).total
    assert max(peaks) < total, "the volume never filled"
    assert not node.catalog.events(types=["camera_offline"]), "recording never stopped"
    assert not [g for g in node.catalog.gaps("door", "main", 0, 2**62) if g.cause == "disk_full"]


def test_a_full_disk_stops_recording_without_loss_and_it_resumes(tmp_path, small_volume, heavy_clip):
    ballast = small_volume / "ballast.bin"
    ballast.write_bytes(os.urandom(2 * MB))
    config = on_volume(tmp_path, small_volume, heavy_clip, min_retention_days=30, max_percent=100, reserve_free=0)
    node = Vigil(config, tmp_path)
    node.start()
    try:
        gap = wait_for(
            lambda: [g for g in node.catalog.gaps("door", "main", 0, 2**62) if g.cause == "disk_full"],
            timeout=60,
            what="a disk_full gap",
        )[0]
        assert node.catalog.open_event("storage_capacity") is not None
        assert node.catalog.ledger() == [], "the legal minimum forbids deleting"
        before = node.catalog.segments("door", "main")
        assert before, "segments written before the disk filled are catalogued"
        for seg in before:
            assert sha256_file(node.store.absolute(seg.path)) == seg.sha256
        ballast.unlink()  # an operator makes room
        resumed = wait_for(
            lambda: [s for s in node.catalog.segments("door", "main") if s.start_us > gap.start_us and not s.recovered],
            timeout=60,
            what="recording after room was made",
        )
        left = [p for p in node.store.part_files() if int(p.rsplit("/", 1)[1].split(".")[0]) < resumed[0].start_us]
        assert not left, "the part cut short by the full disk was salvaged or found empty, not left behind"
    finally:
        node.stop()
    for seg in node.catalog.segments("door", "main"):
        with av.open(str(node.store.absolute(seg.path))) as c:
            frames = sum(1 for p in c.demux(c.streams.video[0]) if p.size)
        assert frames == seg.frame_count, f"{seg.path}: the catalog claims only what is on disk"
    closed = node.catalog.gaps("door", "main", gap.start_us - 1, gap.start_us + 1)[0]
    assert closed.end_us is not None


def test_a_segment_whose_last_fragment_did_not_fit_is_never_published_whole(tmp_path, small_volume, heavy_clip):
    """FFmpeg's close does not report that the final fragment could not be written: the writer counts what reached
    the disk and leaves a short segment for salvage instead of cataloguing frames the disk lacks."""
    from types import SimpleNamespace

    from vigil.media.recording_sources import PyavSegmentWriter

    with av.open(str(heavy_clip)) as source:
        stream = source.streams.video[0]
        packets = [p for p in source.demux(stream) if p.size][:50]
        size = sum(p.size for p in packets)
        free = shutil.disk_usage(small_volume).free
        (small_volume / "ballast.bin").write_bytes(b"\0" * max(0, free - size + 150 * 1024))
        place = SimpleNamespace(camera_id="door", stream="main", root=small_volume)
        writer = PyavSegmentWriter(place, stream, 1_000_000, 0)
        for packet in packets:
            writer.write(packet)
        assert not writer.failed, "every packet was taken (FFmpeg buffers the last fragment)"
        with pytest.raises(OSError, match="frames reached the disk") as raised:
            writer.finish(3_000_000)
    assert raised.value.errno == errno.ENOSPC and writer.failed
    assert writer.part.exists() and not list(small_volume.rglob("*.mp4")), "left as a part for salvage"
