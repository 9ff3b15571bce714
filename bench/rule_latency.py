"""Rule latency: from the analysed frame in which a rule fires to its event on the node's event bus, with N cameras
analysed (and recorded) by a real node, against events that need no detector in the same run.

A real :class:`vigil.runtime.Vigil` runs N cameras (8; 2 with ``--quick``) on PETS09-S2L1 (people walking
across a plaza), transcoded once to H.264 at its own size and played as ``file://`` cameras at real-time pace;
in the full run they are recorded as well (``--record``/``--no-record``). Each camera has six tripwires (three
vertical, three horizontal) with a ``line_cross`` rule each. The bench subscribes to ``vigil.bus`` and, for every
event published, takes the wall time at which the callback runs (``time.time_ns() // 1000``, the clock of the
events' times) minus the event's ``start_us``:

- rule events (``line_cross``, ``recorded``): ``start_us`` is the frame that was sent to the detector and in
  whose detections the rule fired, so the latency is everything an alarm would wait for: the detector's queue and
  inference, picking the reply up on a later analysed frame (up to 200 ms at 5 fps), tracking and rules, the
  snapshot (JPEG, fsync), the worker's pipe, the drain thread and the catalog write;
- object events (``object``, ``opened``): ``start_us`` is the track's first frame, so this includes the frames
  a track needs to be confirmed; reported apart, and also from the frame whose detections confirmed it;
- the baseline, probe events (``bench_probe``, ``recorded``): every 2 s each camera's analyser also reports an
  event of the frame it is given, as motion would (no detector involved): the same snapshot, pipe, drain and
  catalog path, in the same workers at the same time. Motion events (``motion``, ``opened``) would be the natural
  baseline and are reported too, but on PETS someone is always moving: a camera's motion event opens once, in the
  settling time, and never closes, so there are none in the window.

Only events whose ``start_us`` falls in the measurement window (after ``--settle`` s; the detector loads and
links meanwhile) count, and the node runs on 3 s after the window so the last ones arrive.

Unless ``--plain`` (no probes then), the analyser and the detector link in the workers are wrapped (a top-level
factory, as ``analysis_cost.py`` does) to send the probes, count analysed frames, detector requests and replies per
camera, and stamp each event with the frame in which it was produced, the detector reply's frame and inference time
and the time the analyser returned; the node's analysis report handler notes when each event reached the main
process. That splits a rule event's latency into: detection (frame sent -> reply picked up), that frame's analysis,
transport (analyser done -> main process: snapshot, pipe, drain) and catalog (-> published on the bus); the
probes' transport and catalog parts are shown beside them.

The issue's goal for alarms: rule events' p95 under 1 s with 8 cameras analysed (``goal_met``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from vigil.config.loader import parse_config  # noqa: E402
from vigil.domain.reports import AnalysisEvent, Message  # noqa: E402
from vigil.media.analysis_worker import AnalysisJob, analysis_worker_main  # noqa: E402
from vigil.media.supervisor import WorkerSupervisor  # noqa: E402
from vigil.media.transcode import ensure_h264  # noqa: E402
from vigil.ports import DetectionLink, DetectionReply, Pictured  # noqa: E402
from vigil.runtime import Vigil  # noqa: E402
from vigil.usecases.analysis_reports import AnalysisReports  # noqa: E402
from vigil.usecases.event_bus import EventPublished  # noqa: E402
from vigil.wiring import camera_analysis_for, groups  # noqa: E402

SOURCE = HERE.parent.parent / "shared" / "data" / "pets09-s2l1" / "vtest.avi"
COUNTS_ENV = "VIGIL_BENCH_RULE_COUNTS"  # where the wrapped analysers write their counts
GOAL_MS = 1000.0
GOAL_CAMERAS = 8
PROBE_EVERY_S = 2.0
LINES = {
    "West": [[0.3, 0.05], [0.3, 0.95]],
    "Middle": [[0.5, 0.05], [0.5, 0.95]],
    "East": [[0.7, 0.05], [0.7, 0.95]],
    "North": [[0.05, 0.4], [0.95, 0.4]],
    "Centre": [[0.05, 0.55], [0.95, 0.55]],
    "South": [[0.05, 0.7], [0.95, 0.7]],
}


def now_us() -> int:
    return time.time_ns() // 1000


# --- inside the analysis worker ---------------------------------------------------------------------------------
class CountingLink:
    """A camera's detector link that counts requests and replies and keeps the reply picked up this frame."""

    def __init__(self, link: DetectionLink) -> None:
        self.link = link
        self.submitted = 0
        self.replies = 0
        self.took_ms = 0.0  # the detector's inference time, summed over the replies
        self.last: DetectionReply | None = None

    @property
    def connected(self) -> bool:
        return self.link.connected

    @property
    def busy(self) -> bool:
        return self.link.busy

    def submit(self, picture: Any, crop: tuple[int, int, int, int], at_us: int) -> bool:
        sent = self.link.submit(picture, crop, at_us)
        self.submitted += int(sent)
        return sent

    def poll(self) -> DetectionReply | None:
        self.last = self.link.poll()
        if self.last is not None:
            self.replies += 1
            self.took_ms += self.last.took_ms
        return self.last

    def close(self) -> None:
        self.link.close()


@dataclass
class StampingAnalyser:
    """The shipped analyser, its events stamped with bench timings (``bench_*`` in their data) and its counts
    written to ``<counts>/<camera>.json`` about once a second."""

    camera_id: str
    stream: str
    inner: Any
    link: CountingLink | None
    counts: Path | None
    frames: int = 0
    _written: float = 0.0
    _probe_at: float = dataclasses.field(default_factory=lambda: time.monotonic() + random.uniform(0, PROBE_EVERY_S))

    def feed(self, gray: Any, at_us: int, picture: Any = None) -> list[Message | Pictured]:
        out = list(self.inner.feed(gray, at_us, picture))
        if time.monotonic() >= self._probe_at:  # the baseline: an event of this frame, no detector involved
            self._probe_at += PROBE_EVERY_S
            key = f"bench:probe:{at_us}"
            out.append(AnalysisEvent(self.camera_id, self.stream, key, "bench_probe", at_us, at_us, "probe", {}))
        stamp: dict[str, Any] = {"bench_frame_us": at_us, "bench_done_us": now_us()}
        reply = self.link.last if self.link is not None else None
        if reply is not None:
            stamp |= {"bench_reply_us": reply.at_us, "bench_took_ms": round(reply.took_ms, 1)}
        self.frames += 1
        if self.counts is not None and time.monotonic() - self._written >= 1.0:
            self._written = time.monotonic()
            self._write_counts()
        return [stamped(item, stamp) for item in out]

    def collect(self, at_us: int) -> list[Message | Pictured]:
        """A reply taken between analysed frames (``at_us``: the decoded frame's time)."""
        out = list(self.inner.collect(at_us))
        if not out:
            return out
        stamp: dict[str, Any] = {"bench_frame_us": at_us, "bench_done_us": now_us()}
        reply = self.link.last if self.link is not None else None
        if reply is not None:
            stamp |= {"bench_reply_us": reply.at_us, "bench_took_ms": round(reply.took_ms, 1)}
        return [stamped(item, stamp) for item in out]

    def stop(self, at_us: int) -> list[Message | Pictured]:
        return list(self.inner.stop(at_us))

    def _write_counts(self) -> None:
        assert self.counts is not None
        link = self.link
        figures = {
            "at": time.monotonic(),
            "frames": self.frames,
            "submitted": link.submitted if link else 0,
            "replies": link.replies if link else 0,
            "took_ms": link.took_ms if link else 0.0,
        }
        part = self.counts / f".{self.camera_id}.part"
        part.write_text(json.dumps(figures))
        part.replace(self.counts / f"{self.camera_id}.json")


def stamped(item: Message | Pictured, stamp: dict[str, Any]) -> Message | Pictured:
    msg = item.message if isinstance(item, Pictured) else item
    if not isinstance(msg, AnalysisEvent):
        return item
    msg = dataclasses.replace(msg, data={**msg.data, **stamp})
    return Pictured(msg, item.picture) if isinstance(item, Pictured) else msg


def stamping_analysis_for(job: AnalysisJob, link: DetectionLink | None) -> StampingAnalyser:
    """The analyser factory the bench gives the analysis workers (pickled by name, like the node's own)."""
    counting = CountingLink(link) if link is not None else None
    counts = os.environ.get(COUNTS_ENV)
    return StampingAnalyser(
        job.camera_id, job.stream, camera_analysis_for(job, counting), counting, Path(counts) if counts else None
    )


# --- in the main process ----------------------------------------------------------------------------------------
class NotingReports(AnalysisReports):
    """The node's analysis report handler, noting when each event reached the main process's drain."""

    def __init__(self, catalog: Any, tz: Any, arrived: dict[tuple[str, str, int], int]) -> None:
        super().__init__(catalog, tz)
        self.arrived = arrived

    def handle(self, msg: Message) -> None:
        if isinstance(msg, AnalysisEvent):
            self.arrived[(msg.camera_id, msg.key, msg.start_us)] = now_us()
        super().handle(msg)


def node_doc(work: Path, clip: Path, cameras: int, record: bool) -> dict[str, Any]:
    """Shipped settings but for where the files go: analysis on, object events on, six line_cross rules."""
    camera = {
        "record": record,
        "streams": {"main": {"url": f"file://{clip}"}},
        "analysis": {
            "faults": False,
            "lines": [{"name": name, "points": points} for name, points in LINES.items()],
            "rules": [{"name": f"Crossing {name}", "kind": "line_cross", "line": name} for name in LINES],
        },
    }
    return {
        "storage": {"root": str(work / "recordings")},
        "analysis": {"enabled": True},
        "cameras": [{"id": f"plaza-{k}", "name": f"Plaza {k}", **camera} for k in range(cameras)],
    }


def percentiles(values: Sequence[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    arr = np.asarray(values, dtype=float)
    return {
        "n": len(values),
        "p50_ms": round(float(np.percentile(arr, 50)), 1),
        "p95_ms": round(float(np.percentile(arr, 95)), 1),
        "max_ms": round(float(arr.max()), 1),
    }


def show(name: str, figures: dict[str, Any], note: str = "") -> None:
    if not figures["n"]:
        print(f"{name}: none{note}", flush=True)
        return
    print(
        f"{name}: {figures['n']} events, latency p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms, "
        f"max {figures['max_ms']:.0f} ms{note}",
        flush=True,
    )


def read_counts(folder: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in folder.glob("*.json"):
        try:
            out[path.stem] = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return out


def split(window: list[tuple[int, EventPublished]], arrived: dict[tuple[str, str, int], int]) -> dict[str, Any]:
    """Rule events' latency in parts, from the bench's stamps; the probes' transport and catalog parts beside."""
    parts: dict[str, list[float]] = {
        "detect": [],
        "inference": [],
        "analyse": [],
        "transport": [],
        "catalog": [],
        "probe_transport": [],
        "probe_catalog": [],
    }
    for at, ev in window:
        data, kind = ev.record.data, ev.record.type
        if kind not in ("line_cross", "bench_probe") or "bench_done_us" not in data:
            continue
        prefix = "probe_" if kind == "bench_probe" else ""
        if not prefix:
            parts["detect"].append((data["bench_frame_us"] - ev.record.start_us) / 1000)
            parts["inference"].append(float(data.get("bench_took_ms", 0.0)))
            parts["analyse"].append((data["bench_done_us"] - data["bench_frame_us"]) / 1000)
        reached = arrived.get((ev.record.camera_id or "", data.get("key", ""), ev.record.start_us))
        if reached is not None:
            parts[f"{prefix}transport"].append((reached - data["bench_done_us"]) / 1000)
            parts[f"{prefix}catalog"].append((at - reached) / 1000)
    what = {
        "detect": "frame sent to the detector -> its reply picked up (queue, inference, next analysed frame)",
        "inference": "  of which the detector's inference",
        "analyse": "that frame's analysis (motion, tracking, rules, snapshot copy, next request)",
        "transport": "analyser done -> main process (snapshot JPEG and fsync, pipe, drain thread)",
        "catalog": "main process -> published on the bus (catalog write)",
        "probe_transport": "probes: analyser done -> main process",
        "probe_catalog": "probes: main process -> published on the bus",
    }
    print("rule events' latency, split (p50 / p95 / max ms):", flush=True)
    out: dict[str, Any] = {}
    for key, values in parts.items():
        figures = percentiles(values)
        name = key if key.startswith("probe_") else f"rule_{key}"
        out[f"{name}_p50_ms"], out[f"{name}_p95_ms"] = figures["p50_ms"], figures["p95_ms"]
        if figures["n"]:
            print(
                f"  {what[key]}: {figures['p50_ms']:.0f} / {figures['p95_ms']:.0f} / {figures['max_ms']:.0f}",
                flush=True,
            )
    return out


def camera_figures(counts0: dict[str, Any], counts1: dict[str, Any], wall: float) -> dict[str, Any]:
    """Analysed frames and detector replies per second per camera over the window, from the workers' counts."""
    per_camera = {}
    for cam in sorted(counts1):
        a, b = counts0.get(cam, {}), counts1[cam]
        replies = b["replies"] - a.get("replies", 0)
        per_camera[cam] = {
            "analysed_fps": round((b["frames"] - a.get("frames", 0)) / wall, 2),
            "detections_per_s": round(replies / wall, 2),
            "inference_ms": round((b["took_ms"] - a.get("took_ms", 0.0)) / replies, 1) if replies else None,
            "busy": (b["took_ms"] - a.get("took_ms", 0.0)) / 1000 / wall,
        }
    for cam, figures in per_camera.items():
        print(
            f"  {cam}: analysed {figures['analysed_fps']:.2f} frames/s, detector replies "
            f"{figures['detections_per_s']:.2f}/s, inference {figures['inference_ms']} ms",
            flush=True,
        )
    rates = [f["detections_per_s"] for f in per_camera.values()]
    busy = sum(f["busy"] for f in per_camera.values())
    print(f"detector: {sum(rates):.1f} replies/s in all, inferring {100 * busy:.0f}% of the time", flush=True)
    return {
        "analysed_fps_min": min((f["analysed_fps"] for f in per_camera.values()), default=None),
        "detections_per_s_per_camera_min": min(rates, default=None),
        "detections_per_s_per_camera_mean": round(sum(rates) / len(rates), 2) if rates else None,
        "detections_per_s_total": round(sum(rates), 2),
        "detector_busy_fraction": round(busy, 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 cameras, not recorded, a 30 s window")
    parser.add_argument("--cameras", type=int, help="cameras analysed (default 8; 2 with --quick)")
    parser.add_argument("--seconds", type=float, help="measurement window (default 160, two loops; 30 with --quick)")
    parser.add_argument("--settle", type=float, default=10.0, help="seconds before the window (default 10)")
    parser.add_argument(
        "--record", action=argparse.BooleanOptionalAction, help="also record the cameras (default: not with --quick)"
    )
    parser.add_argument("--plain", action="store_true", help="the node untouched: end-to-end figures only")
    parser.add_argument("--cache-dir", type=Path, default=HERE.parent / ".vigil-cache" / "bench")
    args = parser.parse_args(argv)
    n = args.cameras or (2 if args.quick else GOAL_CAMERAS)
    seconds = args.seconds or (30.0 if args.quick else 160.0)
    record = args.record if args.record is not None else not args.quick
    if not SOURCE.is_file():
        print(f"{SOURCE} is missing: this bench needs the shared footage", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the node on SIGTERM too
    began = time.monotonic()
    clip = ensure_h264(SOURCE, args.cache_dir, gop_s=2.0)
    work = Path(tempfile.mkdtemp(prefix="vigil-bench-rule-latency-"))
    counts_dir = work / "counts"
    counts_dir.mkdir()
    doc = node_doc(work, clip, n, record)
    config = parse_config(doc, str(work / "vigil.yaml"))
    vigil = Vigil(config, work)
    arrived: dict[tuple[str, str, int], int] = {}
    if not args.plain:
        os.environ[COUNTS_ENV] = str(counts_dir)  # inherited by the spawned workers
        vigil.analysis_reports = NotingReports(vigil.catalog, ZoneInfo(config.site.timezone), arrived)
        vigil.analysers = WorkerSupervisor(
            groups(vigil.jobs, config.analysis.cameras_per_worker),
            vigil._analyser_died,
            target=analysis_worker_main,
            extra_args=(stamping_analysis_for,),
            role="analysis",
        )
    got: list[tuple[int, EventPublished]] = []
    lock = threading.Lock()

    def on_event(event: EventPublished) -> None:
        at = now_us()
        with lock:
            got.append((at, event))

    vigil.bus.subscribe(on_event)
    print(
        f"{n} cameras of {clip.name} (PETS09-S2L1, 768x576, 10 fps), {len(LINES)} line_cross rules each, "
        f"{'recorded and ' if record else ''}analysed at {config.analysis.fps:g} fps; "
        f"{args.settle:g} s to settle, then {seconds:g} s",
        flush=True,
    )
    try:
        vigil.start()
        time.sleep(args.settle)
        t0, counts0, m0 = now_us(), read_counts(counts_dir), time.monotonic()
        time.sleep(seconds)
        t1, counts1, m1 = now_us(), read_counts(counts_dir), time.monotonic()
        time.sleep(3.0)  # the events of the window's last frames arrive
        t_stop = now_us()
        segments = sum(len(vigil.catalog.segments(f"plaza-{k}", "main")) for k in range(n))
    finally:
        vigil.stop()
        os.environ.pop(COUNTS_ENV, None)
        shutil.rmtree(work, ignore_errors=True)
    with lock:  # what the node published while stopping is not counted
        window = [(at, ev) for at, ev in got if t0 <= ev.record.start_us < t1 and at < t_stop]

    def latencies(type_: str, change: str, since: str = "") -> list[float]:
        out = []
        for at, ev in window:
            if ev.record.type == type_ and ev.change == change:
                begin = ev.record.data.get(since) if since else ev.record.start_us
                if begin is not None:
                    out.append((at - begin) / 1000)
        return out

    rule = percentiles(latencies("line_cross", "recorded"))
    objects = percentiles(latencies("object", "opened"))
    objects_confirmed = percentiles(latencies("object", "opened", "bench_reply_us"))
    probe = percentiles(latencies("bench_probe", "recorded"))
    motion = percentiles(latencies("motion", "opened"))
    show("rule events (line_cross), frame -> bus", rule)
    show("object events opened, track's first frame -> bus", objects, " (includes the confirmation frames)")
    if not args.plain:
        show("object events opened, confirming frame -> bus", objects_confirmed)
        show("baseline: probe events, frame -> bus", probe, " (no detector)")
    show("baseline: motion events opened, frame -> bus", motion, " (no detector)")
    result: dict[str, Any] = {
        "cameras": n,
        "recorded": record,
        "plain": args.plain,
        "seconds": round((t1 - t0) / 1e6, 1),
        "analysis_fps": config.analysis.fps,
    }
    for name, figures in (("rule", rule), ("object_opened", objects), ("probe", probe), ("motion", motion)):
        result[f"{name}_events"] = figures["n"]
        for key in ("p50_ms", "p95_ms", "max_ms"):
            result[f"{name}_{key}"] = figures[key]
    result["object_opened_from_confirming_frame_p50_ms"] = objects_confirmed["p50_ms"]
    result["object_opened_from_confirming_frame_p95_ms"] = objects_confirmed["p95_ms"]
    ratios = {}
    for name, base in (("probe", probe), ("motion", motion)):
        ratio = round(rule["p95_ms"] / base["p95_ms"], 2) if rule["p95_ms"] is not None and base["p95_ms"] else None
        result[f"rule_p95_over_{name}_p95"] = ratios[name] = ratio
    if not args.plain:
        result |= split(window, arrived)
        result |= camera_figures(counts0, counts1, m1 - m0)
    if record:
        result["segments_recorded"] = segments
    met = rule["p95_ms"] is not None and rule["p95_ms"] < GOAL_MS
    result["rule_p95_under_1s"] = met
    result["goal_met"] = met and n >= GOAL_CAMERAS
    print(
        f"rule p95 / probe p95 = {ratios['probe']}, rule p95 / motion p95 = {ratios['motion']}; goal (rule p95 "
        f"under {GOAL_MS / 1000:g} s with {GOAL_CAMERAS} cameras): {'met' if result['goal_met'] else 'not met'}"
        + (f" (only {n} cameras in this run)" if n < GOAL_CAMERAS else ""),
        flush=True,
    )
    result["wall_s"] = round(time.monotonic() - began, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
