"""People: detection precision/recall/AP@0.5 and tracking MOTA/IDF1 against MOTChallenge ground truth.

Clips (``../shared/data``): PETS09-S2L1 (``vtest.avi``; video frame n, 0-based, is ground-truth frame n+1;
rows with conf 0 are "ignore" regions) and TUD-Campus (``TUD-Campus.mp4``, the same numbering). Frames are taken
at the shipped analysis rate (5 fps by the container's timestamps) and given to the shipped detector at its
shipped input size; only those frames are scored.

- **Detection**: a person detection matches an unmatched ground-truth box with IoU >= 0.5 (best score first);
  detections on "ignore" regions are neither true nor false. Precision and recall at the shipped minimum
  score for people; AP@0.5 from all detections down to score 0.1 (all-point interpolation, VOC 2010+).
- **Tracking**: Vigil's ``Tracker`` on the shipped-score detections; its confirmed tracks against the ground
  truth with py-motmetrics (distance 1 - IoU, no match under IoU 0.5): MOTA, IDF1, identity switches.

Both are measured on **whole frames** (the detector's own figures) and through the **shipped pipeline**
(``gated-`` figures): ``CameraAnalysis`` with its motion detector on 320-pixel luminance frames, gating, crops
of the 640-pixel colour picture, and its ``ObjectWatch`` tracker, fed the reply of each frame on the next one
as in a worker. The link is in-process and keeps up; frames without motion or followed objects are not
detected, and what the gating misses counts against recall. ``gated50-`` figures: the same with a loaded
detector that answers only ``--detector-share`` of the frames (frames it skipped are scored with the tracks
the camera saw last).

``--quick`` scores the first 200 video frames of PETS and all of TUD-Campus. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import av
import motmetrics as mm
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from vigil.analysis.camera import AnalysisSettings, CameraAnalysis  # noqa: E402
from vigil.analysis.detector import Detector, load_detector  # noqa: E402
from vigil.analysis.tracking import Box, Detection, Tracker, iou_matrix  # noqa: E402
from vigil.ports import DetectionReply  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data"
CLIPS = {"pets09-s2l1": DATA / "pets09-s2l1" / "vtest.avi", "tud-campus": DATA / "tud-campus" / "TUD-Campus.mp4"}


@dataclass
class Truth:
    boxes: dict[int, list[tuple[int, Box]]] = field(default_factory=dict)  # frame -> (id, box)
    ignore: dict[int, list[Box]] = field(default_factory=dict)


def load_truth(path: Path) -> Truth:
    truth = Truth(defaultdict(list), defaultdict(list))
    for line in path.read_text().splitlines():
        f, tid, left, top, w, h, conf = (float(v) for v in line.split(",")[:7])
        box = (left, top, left + w, top + h)
        if conf == 0:
            truth.ignore[int(f)].append(box)
        else:
            truth.boxes[int(f)].append((int(tid), box))
    return truth


@dataclass
class ClipResult:
    name: str
    frames: int = 0
    scored: list[tuple[float, bool]] = field(default_factory=list)  # (score, true positive) of all detections
    truths: int = 0
    ms_per_frame: float = 0.0
    acc: Any = None


def run_clip(name: str, path: Path, detector: Detector, fps: float, max_frames: int | None) -> ClipResult:
    truth = load_truth(path.parent / "gt.txt")
    result = ClipResult(name, acc=mm.MOTAccumulator(auto_id=True))
    tracker = Tracker(fps)
    min_score = detector.min_score("person")
    next_s, spent = 0.0, 0.0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for index, frame in enumerate(container.decode(stream)):
            if max_frames is not None and index >= max_frames:
                break
            if frame.time is None or frame.time + 1e-6 < next_s:
                continue
            next_s += 1 / fps
            gt_frame = index + 1
            bgr = frame.to_ndarray(format="bgr24")
            started = time.process_time()
            detections = [d for d in detector.detect(bgr, min_score=0.1) if d.label == "person"]
            spent += time.process_time() - started
            result.frames += 1
            gts = truth.boxes.get(gt_frame, [])
            kept = [d for d in detections if not _on_ignore(d, truth.ignore.get(gt_frame, []))]
            result.truths += len(gts)
            result.scored += _match_scores(kept, [b for _, b in gts])
            tracks = tracker.update([d for d in detections if d.score >= min_score], round(frame.time * 1e6), bgr)
            tracked = [
                t for t in tracks if not _on_ignore(Detection("person", 1.0, t.box), truth.ignore.get(gt_frame, []))
            ]
            _accumulate(result.acc, gts, tracked)
    result.ms_per_frame = 1000 * spent / max(result.frames, 1)
    return result


class InProcessLink:
    """The detector link of a worker, without the process: detection runs at submit, the reply is polled on the
    next frame. Keeps every detection down to score 0.1 of the last request for the AP figure."""

    def __init__(self, detector: Detector, share: float = 1.0) -> None:
        self.detector = detector
        self.connected = True
        self.share, self._credit = share, 0.0  # the share of frames a loaded detector has time for
        self._reply: DetectionReply | None = None
        self.all_found: list[Detection] = []  # of the last request, in picture pixels
        self.spent = 0.0
        self.requests = 0

    @property
    def busy(self) -> bool:
        """Asked once per analysed frame: busy on all but ``share`` of them, evenly spread."""
        self._credit += self.share
        if self._credit >= 1.0 - 1e-9:
            self._credit -= 1.0
            return False
        return True

    def submit(self, picture: Any, crop: tuple[int, int, int, int], at_us: int) -> bool:
        x1, y1, x2, y2 = crop
        started = time.process_time()
        found = self.detector.detect(picture[y1:y2, x1:x2], min_score=0.1)
        self.spent += time.process_time() - started
        moved = [
            Detection(d.label, d.score, (d.box[0] + x1, d.box[1] + y1, d.box[2] + x1, d.box[3] + y1)) for d in found
        ]
        self.all_found = moved
        self.requests += 1
        shipped = [(d.label, d.score, *d.box) for d in moved if d.score >= self.detector.min_score(d.label)]
        self._reply = DetectionReply(at_us, shipped, picture.copy(), crop, 0.0)
        return True

    def poll(self) -> DetectionReply | None:
        reply, self._reply = self._reply, None
        return reply

    def close(self) -> None:
        pass


def run_clip_gated(
    name: str, path: Path, detector: Detector, fps: float, max_frames: int | None, share: float = 1.0
) -> ClipResult:
    """The shipped pipeline; each reply (of the previous analysed frame) is scored against that frame's truth."""
    truth = load_truth(path.parent / "gt.txt")
    label = "gated" if share >= 1.0 else f"gated{round(100 * share)}"
    result = ClipResult(f"{label}-{name}", acc=mm.MOTAccumulator(auto_id=True))
    link = InProcessLink(detector, share)
    analysis = CameraAnalysis(name, "main", AnalysisSettings(fps=fps, faults=False), detection=link)
    watch = analysis._objects
    assert watch is not None
    next_s = 0.0
    pending: tuple[int, float, list[Detection]] | None = None  # (truth frame, scale, detections) of the request
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for index, frame in enumerate(container.decode(stream)):
            if max_frames is not None and index >= max_frames:
                break
            if frame.time is None or frame.time + 1e-6 < next_s:
                continue
            next_s += 1 / fps
            gray_h = max(2, round(frame.height * 320 / frame.width / 2) * 2)
            gray = frame.reformat(width=320, height=gray_h, format="gray").to_ndarray()
            pic_h = max(2, round(frame.height * 640 / frame.width / 2) * 2)
            scale = frame.width / 640

            def picture(f: Any = frame, h: int = pic_h) -> Any:
                return f.reformat(width=640, height=h, format="bgr24").to_ndarray()

            asked, requests = pending, link.requests
            analysis.feed(gray, round(frame.time * 1e6), picture)  # takes the reply of the last request first
            if asked is not None:
                _score_frame(result, truth, asked[0], asked[2], watch.seen, asked[1])
            if link.requests > requests:  # this frame was looked at: scored when its reply is taken, next frame
                pending = (index + 1, scale, link.all_found)
            else:  # not looked at: what the camera believes is there is what it saw last
                pending = None
                _score_frame(result, truth, index + 1, [], watch.seen, scale)
    result.ms_per_frame = 1000 * link.spent / max(result.frames, 1)
    return result


def _score_frame(
    result: ClipResult,
    truth: Truth,
    gt_frame: int,
    found: list[Detection],
    tracks: Sequence[Any],
    scale: float,
) -> None:
    def up(box: Box) -> Box:
        return (box[0] * scale, box[1] * scale, box[2] * scale, box[3] * scale)

    result.frames += 1
    gts = truth.boxes.get(gt_frame, [])
    ignore = truth.ignore.get(gt_frame, [])
    people = [Detection("person", d.score, up(d.box)) for d in found if d.label == "person"]
    kept = [d for d in people if not _on_ignore(d, ignore)]
    result.truths += len(gts)
    result.scored += _match_scores(kept, [b for _, b in gts])
    tracked = [
        _Scaled(t.track_id, up(t.box))
        for t in tracks
        if t.label == "person" and not _on_ignore(Detection("person", 1.0, up(t.box)), ignore)
    ]
    _accumulate(result.acc, gts, tracked)


@dataclass(frozen=True)
class _Scaled:
    track_id: int
    box: Box


def _on_ignore(det: Detection, ignore: list[Box]) -> bool:
    if not ignore:
        return False
    return bool((iou_matrix(np.array([det.box]), np.array(ignore)) >= 0.5).any())


def _match_scores(dets: list[Detection], gts: list[Box]) -> list[tuple[float, bool]]:
    dets = sorted(dets, key=lambda d: -d.score)
    if not gts:
        return [(d.score, False) for d in dets]
    iou = iou_matrix(np.array([d.box for d in dets]).reshape(-1, 4), np.array(gts))
    taken: set[int] = set()
    out: list[tuple[float, bool]] = []
    for i, det in enumerate(dets):
        best = max((j for j in range(len(gts)) if j not in taken), key=lambda j: iou[i, j], default=None)
        hit = best is not None and iou[i, best] >= 0.5
        if hit and best is not None:
            taken.add(best)
        out.append((det.score, hit))
    return out


def _accumulate(acc: Any, gts: list[tuple[int, Box]], tracks: list[Any]) -> None:
    if gts and tracks:
        iou = iou_matrix(np.array([b for _, b in gts]), np.array([t.box for t in tracks]))
        dist = np.where(iou >= 0.5, 1 - iou, np.nan)
    else:
        dist = np.empty((len(gts), len(tracks)))
    acc.update([tid for tid, _ in gts], [t.track_id for t in tracks], dist)


def detection_figures(results: Sequence[ClipResult], min_score: float) -> dict[str, float]:
    scored = sorted((s for r in results for s in r.scored), key=lambda x: -x[0])
    truths = sum(r.truths for r in results)
    at = [hit for score, hit in scored if score >= min_score]
    tp = sum(at)
    precision = float(tp / max(len(at), 1))
    recall = float(tp / max(truths, 1))
    hits = np.array([hit for _, hit in scored], dtype=float)
    ctp, cfp = np.cumsum(hits), np.cumsum(1 - hits)
    rec = np.concatenate([[0.0], ctp / max(truths, 1), [1.0]])
    prec = np.concatenate([[1.0], ctp / np.maximum(ctp + cfp, 1e-9), [0.0]])
    prec = np.maximum.accumulate(prec[::-1])[::-1]
    ap = float(np.sum((rec[1:] - rec[:-1]) * prec[1:]))
    return {"precision": round(precision, 4), "recall": round(recall, 4), "ap50": round(ap, 4)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="PETS frames 0-199 and all of TUD-Campus")
    parser.add_argument("--fps", type=float, default=5.0, help="analysis rate (the shipped default is 5)")
    parser.add_argument(
        "--detector-share",
        type=float,
        default=0.5,
        help="also run the shipped pipeline with a loaded detector that answers only this share of frames",
    )
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"needs the footage in {DATA}; nothing measured", file=sys.stderr)
        return 2
    detector = load_detector()
    min_score = detector.min_score("person")
    print(f"detector {detector.name} at {detector.input_size[0]}x{detector.input_size[1]}, person score >= {min_score}")
    summary: dict[str, Any] = {"detector": detector.name, "input": "x".join(map(str, detector.input_size))}
    summary["analysis_fps"], summary["min_score"] = args.fps, min_score
    results = []
    metrics = mm.metrics.create()
    gated = [partial(run_clip_gated, share=share) for share in (1.0, args.detector_share) if share is not None]
    runs = [(name, path, run) for name, path in CLIPS.items() for run in (run_clip, *gated)]
    for name, path, run in runs:
        result = run(name, path, detector, args.fps, 200 if args.quick and name.startswith("pets") else None)
        name = result.name
        results.append(result)
        det = detection_figures([result], min_score)
        track = metrics.compute(result.acc, metrics=["mota", "idf1", "num_switches"], name=name)
        row = {
            **det,
            "mota": round(float(track["mota"].iloc[0]), 4),
            "idf1": round(float(track["idf1"].iloc[0]), 4),
            "id_switches": int(track["num_switches"].iloc[0]),
            "frames": result.frames,
            "ms_per_frame": round(result.ms_per_frame, 1),
        }
        print(f"{name}: {row}", flush=True)
        summary.update({f"{name}_{k}": v for k, v in row.items()})
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
