"""Analysis cost per camera: decode + motion + picture faults, and the same with motion-gated object detection
(the detector process's CPU shared among its cameras), at the shipped defaults, on 720p and 360p streams, against
decoding alone in the same run; and how many cameras this machine can analyse while recording them.

A real clip (PETS09-S2L1, people walking; synthetic when ``../shared/data`` is absent) is transcoded once to
720p and to 360p H.264 (25 fps, 2 s GOP) and served by one RTSP simulator on 2 x 4 x N mounts. At the same time,
for each resolution: N cameras through Vigil's analysis worker with the shipped analyser but no detector
(``analysis``), N with detection through a detector process of their own (``detect``: worker + detector CPU), and N
through the same worker with an analyser that does nothing (``decode``: the decoding and scaling floor). CPU of
each process comes from ``/proc/<pid>/task/*/schedstat`` over the same window. Each analysed camera also reports
how many frames it analysed, which must keep up with the 5 fps analysis rate, and how many detector replies it
got (PETS has people walking most of the time, so detection runs on most frames: close to the worst case).

The capacity figure is an estimate from the measured costs: cameras = 0.8 x cores x 100% / (analysis + recorder
CPU per camera), with the recorder's per-stream CPU measured in the same run on the 720p mounts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from schedstat import cpu_seconds  # noqa: E402

from vigil.config.models import Config  # noqa: E402
from vigil.domain.reports import AnalysisEvent, Message  # noqa: E402
from vigil.media.analysis_worker import AnalysisJob, analysis_worker_main  # noqa: E402
from vigil.media.detector_process import detector_main  # noqa: E402
from vigil.media.recorder import StreamSpec  # noqa: E402
from vigil.media.simulator import RtspSimulator  # noqa: E402
from vigil.media.supervisor import RecorderSupervisor, WorkerSupervisor  # noqa: E402
from vigil.media.synthetic import make_synthetic_clip  # noqa: E402
from vigil.media.transcode import ensure_h264  # noqa: E402
from vigil.ports import DetectionLink  # noqa: E402
from vigil.wiring import camera_analysis_for, detect_fn_for, detector_job  # noqa: E402

SOURCE = HERE.parent.parent / "shared" / "data" / "pets09-s2l1" / "vtest.avi"
REPORT_EVERY = 25  # analysed frames between counts


@dataclass
class Counting:
    """Wraps an analyser (or none) and reports its frame count now and then as a bench-only event."""

    job: AnalysisJob
    inner: Any = None
    frames: int = 0
    _events: list[Message] = field(default_factory=list)

    def feed(self, gray: Any, at_us: int, picture: Any = None) -> list[Any]:
        self.frames += 1
        out = self.inner.feed(gray, at_us, picture) if self.inner is not None else []
        if self.frames % REPORT_EVERY == 0:
            data = {"n": self.frames, "detections": getattr(self.inner, "detections", 0)}
            out.append(AnalysisEvent(self.job.camera_id, "main", "bench", "bench", at_us, at_us, "", data))
        return list(out)

    def collect(self, at_us: int) -> list[Any]:
        return self.inner.collect(at_us) if self.inner is not None else []

    def stop(self, at_us: int) -> list[Any]:
        return self.inner.stop(at_us) if self.inner is not None else []


def analysed(job: AnalysisJob, link: DetectionLink | None) -> Counting:
    return Counting(job, camera_analysis_for(job, link))


def decode_only(job: AnalysisJob, link: DetectionLink | None) -> Counting:
    return Counting(job)


def clips(cache: Path) -> dict[str, Path]:
    out = {}
    for name, height in (("720p", 720), ("360p", 360)):
        if SOURCE.is_file():
            out[name] = ensure_h264(SOURCE, cache, height=height, gop_s=2.0)
        else:
            path = cache / f"synthetic-{name}.mp4"
            if not path.is_file():
                make_synthetic_clip(path, height * 16 // 9, height, fps=25, duration_s=20, gop_s=2, noise=8)
            out[name] = path
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 cameras per group, one 15 s window")
    parser.add_argument("--cameras", type=int, help="cameras per group (default 4; 2 with --quick)")
    parser.add_argument("--seconds", type=float, help="measurement window (default 30; 15 with --quick)")
    parser.add_argument("--cache-dir", type=Path, default=HERE.parent / ".vigil-cache" / "bench")
    args = parser.parse_args(argv)
    n = args.cameras or (2 if args.quick else 4)
    seconds = args.seconds or (15.0 if args.quick else 30.0)
    began = time.monotonic()
    sources = clips(args.cache_dir)
    groups = [(res, kind) for res in sources for kind in ("analysis", "detect", "decode")]
    mounts = {f"{res}-{kind}-{k}": sources[res] for res, kind in groups for k in range(n)}
    mounts.update({f"720p-rec-{k}": sources["720p"] for k in range(n)})
    work = Path(tempfile.mkdtemp(prefix="vigil-bench-analysis-"))
    sim = RtspSimulator(mounts, log_path=work / "simulator.log")
    supervisors: dict[str, WorkerSupervisor] = {}
    counts: dict[str, int] = {}
    replies: dict[str, int] = {}
    try:
        sim.start()
        for res, kind in groups:
            jobs = [AnalysisJob(m, "main", sim.url(m), sim.url(m)) for m in mounts if m.startswith(f"{res}-{kind}-")]
            if kind == "detect":  # a detector process of their own: its CPU is theirs
                config = Config.model_validate(
                    {"cameras": [{"id": "x", "name": "x", "streams": {"main": {"url": "file:///x"}}}]}
                )
                djob = detector_job(config, work)
                assert djob is not None
                jobs = [replace(j, detector_address=djob.address, detector_key=djob.authkey) for j in jobs]
                supervisors[f"{res}-detector"] = WorkerSupervisor(
                    [[djob]], lambda *_: None, target=detector_main, extra_args=(detect_fn_for,), role="detector"
                )
            factory = decode_only if kind == "decode" else analysed
            sup = WorkerSupervisor([jobs], lambda *_: None, target=analysis_worker_main, extra_args=(factory,))
            supervisors[f"{res}-{kind}"] = sup
        specs = [StreamSpec(m, "main", sim.url(m), sim.url(m), work / "rec", 60.0) for m in mounts if "-rec-" in m]
        supervisors["720p-record"] = RecorderSupervisor([specs], lambda *_: None)
        for sup in supervisors.values():
            sup.start()
        drain = threading.Event()

        def drain_all() -> None:
            while not drain.is_set():
                for sup in supervisors.values():
                    for msg in sup.receive(0.05):
                        if isinstance(msg, AnalysisEvent) and msg.type == "bench":
                            counts[msg.camera_id] = int(msg.data["n"])
                            replies[msg.camera_id] = int(msg.data["detections"])

        drainer = threading.Thread(target=drain_all, daemon=True)
        drainer.start()
        time.sleep(10)  # connect and settle
        before = {k: cpu_seconds(s.pids) for k, s in supervisors.items()}
        frames0, replies0, t0 = dict(counts), dict(replies), time.monotonic()
        time.sleep(seconds)
        after = {k: cpu_seconds(s.pids) for k, s in supervisors.items()}
        frames1, replies1, wall = dict(counts), dict(replies), time.monotonic() - t0
        drain.set()
    finally:
        for sup in supervisors.values():
            sup.stop()
        sim.stop()
    per_camera = {k: 100 * (after[k] - before[k]) / wall / n for k in supervisors}
    for res in sources:  # the detector's CPU is shared by its cameras
        per_camera[f"{res}-detect"] += per_camera.pop(f"{res}-detector")
    fps = {
        res: [(frames1.get(m, 0) - frames0.get(m, 0)) / wall for m in mounts if m.startswith(f"{res}-analysis-")]
        for res in sources
    }
    detect_fps = {
        res: [(frames1.get(m, 0) - frames0.get(m, 0)) / wall for m in mounts if m.startswith(f"{res}-detect-")]
        for res in sources
    }
    detections = {
        res: [(replies1.get(m, 0) - replies0.get(m, 0)) / wall for m in mounts if m.startswith(f"{res}-detect-")]
        for res in sources
    }
    result: dict[str, Any] = {"cameras_per_group": n, "seconds": round(wall, 1), "analysis_fps_target": 5.0}
    for res in sources:
        cost, floor = per_camera[f"{res}-analysis"], per_camera[f"{res}-decode"]
        result[f"{res}_analysis_cpu_pct_per_camera"] = round(cost, 2)
        result[f"{res}_decode_only_cpu_pct_per_camera"] = round(floor, 2)
        result[f"{res}_analysis_over_decode"] = round(cost / floor, 3) if floor > 0 else None
        result[f"{res}_analysed_fps_min"] = round(min(fps[res], default=0.0), 2)
        gated = per_camera[f"{res}-detect"]
        result[f"{res}_with_detection_cpu_pct_per_camera"] = round(gated, 2)
        result[f"{res}_with_detection_fps_min"] = round(min(detect_fps[res], default=0.0), 2)
        result[f"{res}_detections_per_s_per_camera"] = round(sum(detections[res]) / max(1, len(detections[res])), 2)
        print(
            f"{res}: with gated detection {gated:.2f}% of a core per camera (worker + detector), "
            f"{result[f'{res}_detections_per_s_per_camera']:.2f} detections/s per camera",
            flush=True,
        )
        print(
            f"{res}: analysis {cost:.2f}% of a core per camera (decode only {floor:.2f}%), analysed "
            f"{min(fps[res], default=0):.2f}-{max(fps[res], default=0):.2f} frames/s per camera",
            flush=True,
        )
    record = per_camera["720p-record"]
    result["720p_record_cpu_pct_per_camera"] = round(record, 2)
    cores = os.cpu_count() or 1
    for res in sources:
        both = result[f"{res}_analysis_cpu_pct_per_camera"] + record
        result[f"{res}_cameras_estimate_recording_and_analysing"] = int(0.8 * cores * 100 / both)
        both = result[f"{res}_with_detection_cpu_pct_per_camera"] + record
        result[f"{res}_cameras_estimate_recording_and_detecting"] = int(0.8 * cores * 100 / both)
    result["real_time"] = all(v >= 4.5 for vals in (*fps.values(), *detect_fps.values()) for v in vals)
    result["wall_s"] = round(time.monotonic() - began, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
