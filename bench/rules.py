"""Rules against ground truth: line crossings and zone entries on PETS09-S2L1, from Vigil's detector + tracker,
scored against the same rules run on the ground-truth tracks.

The ground truth (``gt.txt``) gives every person's box in every frame; feeding their bottom centres to the same
``RuleEngine`` gives the true crossings and entries. Vigil's side runs the shipped detector and tracker at the
shipped analysis rate (5 fps) on the video. A predicted event matches a true one of the same rule when it is at
most ``--tolerance`` seconds apart (default 1 s; greedy in time order). Reported per rule: true and predicted
counts, precision and recall. ``--quick`` uses the first 300 video frames. The last line is one JSON object.

The rules (normalised coordinates on the 768x576 picture): a line across the square, y = 0.45, and a zone over
the square's right part.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from people import load_truth  # noqa: E402

from vigil.analysis.detector import load_detector  # noqa: E402
from vigil.analysis.tracking import Box, Tracker  # noqa: E402
from vigil.domain.rules import Rule, RuleEngine, RuleHit, RuleKind, Seen  # noqa: E402

PETS = HERE.parent.parent / "shared" / "data" / "pets09-s2l1"
W, H = 768.0, 576.0
RULES = (
    Rule("cross", RuleKind.LINE_CROSS, zone="Square line", line=((0.0, 0.45), (1.0, 0.45))),
    Rule(
        "enter",
        RuleKind.ZONE_ENTER,
        zone="East square",
        polygon=((0.55, 0.3), (1.0, 0.3), (1.0, 1.0), (0.55, 1.0)),
    ),
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def truth_boxes() -> dict[int, list[tuple[int, Box]]]:
    return load_truth(PETS / "gt.txt").boxes


def seen(track_id: int, box: Box) -> Seen:
    return Seen(track_id, "person", ((box[0] + box[2]) / 2 / W, box[3] / H))


def run(limit: int | None) -> tuple[list[RuleHit], list[RuleHit], int]:
    gt = truth_boxes()
    truth_engine, our_engine = RuleEngine(RULES), RuleEngine(RULES)
    detector, tracker = load_detector(), Tracker(fps=5.0)
    truth_hits: list[RuleHit] = []
    our_hits: list[RuleHit] = []
    present: set[int] = set()
    frames, next_s = 0, 0.0
    with av.open(str(PETS / "vtest.avi")) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if limit is not None and index >= limit:
                break
            if frame.time is None or frame.time + 1e-6 < next_s:
                continue
            next_s += 0.2
            frames += 1
            at_us = round(frame.time * 1e6)
            local = T0 + timedelta(microseconds=at_us)
            people = gt.get(index + 1, [])
            ids = {tid for tid, _ in people}
            truth_hits += truth_engine.step([seen(t, b) for t, b in people], present - ids, at_us, local)
            present = ids
            bgr = frame.to_ndarray(format="bgr24")
            tracks = tracker.update([d for d in detector.detect(bgr) if d.label == "person"], at_us, bgr)
            our_hits += our_engine.step([seen(t.track_id, t.box) for t in tracks], tracker.ended, at_us, local)
    return truth_hits, our_hits, frames


def score(truth: list[RuleHit], ours: list[RuleHit], tolerance_us: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for rule in RULES:
        t = sorted(h.start_us for h in truth if h.rule == rule.name)
        p = sorted(h.start_us for h in ours if h.rule == rule.name)
        used: set[int] = set()
        matched = 0
        for at in t:
            best = min((j for j in range(len(p)) if j not in used), key=lambda j: abs(p[j] - at), default=None)
            if best is not None and abs(p[best] - at) <= tolerance_us:
                used.add(best)
                matched += 1
        out[rule.name] = {
            "true": len(t),
            "predicted": len(p),
            "precision": round(matched / len(p), 3) if p else None,
            "recall": round(matched / len(t), 3) if t else None,
        }
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the first 300 video frames")
    parser.add_argument("--tolerance", type=float, default=1.0, help="seconds between a true and a predicted event")
    args = parser.parse_args(argv)
    if not PETS.is_dir():
        print(f"needs PETS09-S2L1 in {PETS}; nothing measured", file=sys.stderr)
        return 2
    truth, ours, frames = run(300 if args.quick else None)
    result: dict[str, Any] = {"frames": frames, "analysis_fps": 5.0, "tolerance_s": args.tolerance}
    for name, figures in score(truth, ours, int(args.tolerance * 1e6)).items():
        print(f"{name}: {figures}", flush=True)
        result.update({f"{name}_{k}": v for k, v in figures.items()})
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
