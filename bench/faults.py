"""Camera faults from the picture, against the real tampering clips, derived faults, and normal footage.

Every clip is decoded and analysed as the pipeline will: frames taken at ``--fps`` (default 5, the shipped
analysis rate), scaled to 320 pixels wide, luminance only, fed to :class:`vigil.analysis.faults.PictureFaults`.

- **Real tampering** (``../shared/data/tampering``): Occlusion (covered, onset 2.00 s), Defocusing (blurred,
  0.90 s) from ``approx-events.csv``; Displacement (moved) has no row there, so its onset, 2.80 s, was read here
  from the frame-to-frame difference (frame 84 of 29.97 fps is the first that jumps; the picture is still
  before it).
- **Derived** (made once with the ffmpeg CLI into ``.vigil-cache/bench/faults``): the Intel car clip frozen
  from 10 s (``tpad=stop_mode=clone``), blacked out from 10 s and whited out from 10 s (``drawbox``).
- **Normal**: PETS09-S2L1, TUD-Campus, the three Intel samples and the motorway CCTV clip, full length: any
  fault raised there is a false alarm.

A fault clip passes when the expected fault is raised no later than 1 s after its onset and nothing else is
raised before it. The last line is one JSON object. ``--quick`` runs the real tampering clips, the derived
frozen clip and two normal clips.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from vigil.analysis.faults import FaultChange, PictureFaults  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data"
WIDTH = 320
FREEZE = "tpad=stop_mode=clone:stop_duration=10"


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    expected: str | None  # None: a normal clip, no fault expected
    onset_s: float = 0.0
    derived: str = ""  # ffmpeg filter that makes it from `path`


def cases(cache: Path, quick: bool) -> list[Case]:
    t = DATA / "tampering"
    car = DATA / "intel-samples" / "car-detection.mp4"
    fault = [
        Case("occlusion", t / "Occlusion.mp4", "covered", 2.00),
        Case("defocusing", t / "Defocusing.mp4", "blurred", 0.90),
        Case("displacement", t / "Displacement.mp4", "moved", 2.80),
        Case("frozen (derived)", cache / "frozen.mp4", "frozen", 10.0, f"trim=0:10,{FREEZE}"),
        Case("black (derived)", cache / "black.mp4", "black", 10.0, "drawbox=c=black:t=fill:enable='gte(t,10)'"),
        Case("white (derived)", cache / "white.mp4", "overexposed", 10.0, "drawbox=c=white:t=fill:enable='gte(t,10)'"),
    ]
    normal = [
        Case("pets09-s2l1", DATA / "pets09-s2l1" / "vtest.avi", None),
        Case("tud-campus", DATA / "tud-campus" / "TUD-Campus.mp4", None),
        Case("intel car-detection", car, None),
        Case("intel one-by-one-person", DATA / "intel-samples" / "one-by-one-person-detection.mp4", None),
        Case("intel person-bicycle-car", DATA / "intel-samples" / "person-bicycle-car-detection.mp4", None),
        Case("motorway cctv", DATA / "cctv" / "motorway-timestamp.avi", None),
    ]
    for case in fault:
        if case.derived and not case.path.exists():
            case.path.parent.mkdir(parents=True, exist_ok=True)
            cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(car), "-vf", case.derived, "-an"]
            subprocess.run([*cmd, "-c:v", "libx264", "-preset", "veryfast", str(case.path)], check=True)
    if quick:
        return fault[:4] + normal[1:3]
    return fault + normal


def analyse(path: Path, fps: float) -> tuple[list[FaultChange], int, float]:
    """(changes, frames analysed, CPU seconds of the fault checks alone)."""
    checker = PictureFaults(fps=fps)
    changes: list[FaultChange] = []
    frames, cpu, next_t = 0, 0.0, 0.0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.pts is None or frame.time is None or frame.time + 1e-6 < next_t:
                continue
            next_t += 1 / fps
            gray = frame.to_ndarray(format="gray")
            height = round(gray.shape[0] * WIDTH / gray.shape[1])
            small = cv2.resize(gray, (WIDTH, height), interpolation=cv2.INTER_AREA)
            started = time.process_time()
            changes += checker.apply(small, round(frame.time * 1e6))
            cpu += time.process_time() - started
            frames += 1
    return changes, frames, cpu


def judge(case: Case, changes: list[FaultChange]) -> dict[str, Any]:
    raised = [c for c in changes if c.raised]
    row: dict[str, Any] = {
        "clip": case.name,
        "expected": case.expected,
        "raised": [f"{c.kind.value}@{c.at_us / 1e6:.2f}s(onset {c.onset_us / 1e6:.2f}s)" for c in raised],
    }
    if case.expected is None:
        row["passed"] = not raised
        return row
    hit = next((c for c in raised if c.kind.value == case.expected), None)
    before = [c for c in raised if hit is None or c.at_us < hit.at_us]
    row["delay_s"] = round(hit.at_us / 1e6 - case.onset_s, 2) if hit else None
    row["passed"] = hit is not None and row["delay_s"] <= 1.0 and not [c for c in before if c is not hit]
    return row


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--cache-dir", type=Path, default=HERE.parent / ".vigil-cache" / "bench" / "faults")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"needs the footage in {DATA}; nothing measured", file=sys.stderr)
        return 2
    rows, frames, cpu = [], 0, 0.0
    for case in cases(args.cache_dir, args.quick):
        changes, n, c = analyse(case.path, args.fps)
        frames, cpu = frames + n, cpu + c
        row = judge(case, changes)
        rows.append(row)
        print(
            f"{'PASS' if row['passed'] else 'FAIL'} {case.name:26s} expected {case.expected or '-':12s} "
            f"delay {row.get('delay_s', '-')!s:5s} raised {row['raised']}",
            flush=True,
        )
    fault_rows = [r for r in rows if r["expected"]]
    normal_rows = [r for r in rows if not r["expected"]]
    summary = {
        "analysis_fps": args.fps,
        "width": WIDTH,
        "fault_clips": len(fault_rows),
        "fault_clips_passed": sum(r["passed"] for r in fault_rows),
        "max_delay_s": max((r["delay_s"] for r in fault_rows if r["delay_s"] is not None), default=None),
        "normal_clips": len(normal_rows),
        "false_fault_events": sum(len(r["raised"]) for r in normal_rows),
        "frames": frames,
        "ms_per_frame": round(1000 * cpu / max(frames, 1), 3),
        "results": rows,
    }
    summary["goal_met"] = summary["fault_clips_passed"] == len(fault_rows) and summary["false_fault_events"] == 0
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
