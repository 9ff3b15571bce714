"""Evidence package export: how long a long range takes, and where the time goes.

A catalog holds one camera's 720p25 H.264 footage (about 4 Mb/s) as 10 s fragmented-MP4 segments, like the
recorder writes them: one real segment, hard-linked under the storage root at consecutive times (the same bytes
each time, so the disk holds one copy while every step reads them all). Then, each timed:

- ``hash_sources``: reading and hashing every source segment once (the floor: an export re-hashes every source);
- ``export_folder`` / ``export_zip``: ``EvidenceExporter.export`` of the whole range to a folder / a .zip (source
  check, remux into clips, hashing the clips, manifest, signature, and for the zip, writing the archive);
- ``verify_folder`` / ``verify_zip``: the standalone verifier on each.

``--quick`` exports 5 minutes, the default 1 hour (the longest range a package takes is 6 hours). Prints one JSON
object on its last line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from vigil.config.loader import parse_config
from vigil.domain.evidence import EvidenceRequest
from vigil.domain.segment import SegmentInfo
from vigil.domain.segment_names import segment_relpath
from vigil.media.clip import ClipPart, write_clip
from vigil.media.probe import probe_segment
from vigil.media.synthetic import make_synthetic_clip
from vigil.ports import SystemClock
from vigil.storage.audit_log import SqlAuditLog
from vigil.storage.catalog import SqlCatalog
from vigil.storage.segment_store import LocalSegmentStore
from vigil.verify_package import verify
from vigil.wiring import Paths, evidence_exporter

SEGMENT_S = 10
T0 = 1_764_000_000_000_000


def one_segment(work: Path) -> Path:
    """A 10 s 1280x720 25 fps segment at about 4 Mb/s, as the recorder writes it (fragmented MP4)."""
    clip = make_synthetic_clip(
        work / "source.mp4", width=1280, height=720, fps=25, duration_s=SEGMENT_S, gop_s=1, bitrate_kbps=4000, noise=6
    )
    out = work / "segment.mp4"
    write_clip([ClipPart(clip, T0, T0 + SEGMENT_S * 1_000_000)], T0, T0 + SEGMENT_S * 1_000_000, out, fragmented=True)
    return out


def timed(what: str, results: dict[str, float], fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = fn()
    results[what] = round(time.perf_counter() - started, 2)
    print(f"{what}: {results[what]} s", file=sys.stderr)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 minutes of footage instead of 1 hour")
    parser.add_argument("--minutes", type=float, default=None)
    args = parser.parse_args()
    minutes = args.minutes or (5 if args.quick else 60)
    count = int(minutes * 60 / SEGMENT_S)
    with tempfile.TemporaryDirectory(prefix="vigil-evidence-bench-") as tmp:
        work = Path(tmp)
        segment = one_segment(work)
        facts, size, digest = probe_segment(segment), segment.stat().st_size, hashlib.sha256(segment.read_bytes())
        config = parse_config({"storage": {"root": "recordings"}, "cameras": [
            {"id": "gate", "name": "Gate", "streams": {"main": {"url": "file:///gate.mp4"}}}]}, "bench")  # fmt: skip
        paths = Paths.of(config, work)
        catalog, store = SqlCatalog(paths.catalog_url), LocalSegmentStore(paths.root)
        for k in range(count):
            start = T0 + k * SEGMENT_S * 1_000_000
            relpath = segment_relpath("gate", "main", start)
            store.absolute(relpath).parent.mkdir(parents=True, exist_ok=True)
            os.link(segment, store.absolute(relpath))
            catalog.add_segment(SegmentInfo("gate", "main", relpath, start, start + SEGMENT_S * 1_000_000, size,
                                            digest.hexdigest(), facts.codec, facts.width, facts.height,
                                            facts.frame_count))  # fmt: skip
        audit = SqlAuditLog(catalog, work / "audit.head")
        exporter = evidence_exporter(lambda: config, paths, catalog, store, audit, SystemClock())
        end = T0 + count * SEGMENT_S * 1_000_000
        results: dict[str, float] = {}
        timed("hash_sources", results, lambda: [store.sha256(s.path) for s in catalog.segments("gate", "main")])
        for form, name in (("folder", "case"), ("zip", "case.zip")):
            request = EvidenceRequest(("gate",), T0, end, "bench", "bench", "bench", include_events=False)
            made = timed(f"export_{form}", results, lambda n=name, r=request: exporter.export(r, work / n))
            report = timed(f"verify_{form}", results, lambda n=name: verify(work / n))
            assert report.ok, report.problems
            results[f"package_{form}_bytes"] = made.record.size_bytes
        source_bytes = size * count
        catalog.close()
    summary = {
        "bench": "evidence_export",
        "minutes": minutes,
        "segments": count,
        "source_bytes": source_bytes,
        **results,
        "export_zip_mb_per_s": round(source_bytes / 1e6 / results["export_zip"], 1),
        "export_zip_x_realtime": round(minutes * 60 / results["export_zip"], 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
