"""Motion accuracy and speed against ground truth: Vigil's MotionDetector and OpenCV's MOG2 and KNN.

CDnet 2014 baseline/highway (``../shared/data/cdnet2014-highway``): every frame is fed in order to each method;
frames 470-1700 (``temporalROI.txt``) are scored per pixel inside ``ROI.bmp``, where the ground truth is 255
(motion, positive) or 0/50 (static or shadow, negative); 85 (outside the ROI) and 170 (unknown) are ignored.

- ``vigil``: :class:`vigil.analysis.motion.MotionDetector` with the shipped settings, on the luminance plane
  (what the analysis pipeline receives from the decoder). Its time constants need a frame rate: ``--fps``
  (default 10; the figures for 5 and 25 are reported too).
- ``mog2``, ``knn``: OpenCV's subtractors with their default parameters on the colour frames (their usual use;
  shadow pixels, 127, count as no motion), and ``mog2_gray`` on the luminance plane for a like-for-like input.

Speed is frames per second per core: frames / process CPU time of that method alone, with OpenCV held to one
thread for every method. Loading and decoding the JPEGs is outside the timing. ``--quick`` scores frames
470-900 only. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from vigil.analysis.motion import MotionDetector  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data" / "cdnet2014-highway"
Frames = list[npt.NDArray[np.uint8]]


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, motion: npt.NDArray[np.bool_], truth: npt.NDArray[np.uint8], roi: npt.NDArray[np.bool_]) -> None:
        valid = roi & (truth != 85) & (truth != 170)
        positive = truth == 255
        self.tp += int(np.count_nonzero(motion & positive & valid))
        self.fp += int(np.count_nonzero(motion & ~positive & valid))
        self.fn += int(np.count_nonzero(~motion & positive & valid))

    def figures(self) -> dict[str, float]:
        precision = self.tp / max(self.tp + self.fp, 1)
        recall = self.tp / max(self.tp + self.fn, 1)
        f = 2 * precision * recall / max(precision + recall, 1e-12)
        return {"f_measure": round(f, 4), "precision": round(precision, 4), "recall": round(recall, 4)}


def run_method(apply: Callable[[int], npt.NDArray[np.uint8]], count: int) -> tuple[list[npt.NDArray[np.uint8]], float]:
    masks: list[npt.NDArray[np.uint8]] = []
    started = time.process_time()
    for i in range(count):
        masks.append(apply(i))
    return masks, time.process_time() - started


def evaluate(
    name: str, masks: Sequence[npt.NDArray[np.uint8]], cpu_s: float, args: argparse.Namespace
) -> dict[str, Any]:
    roi = cv2.imread(str(args.data / "ROI.bmp"), cv2.IMREAD_GRAYSCALE) > 0
    score = Score()
    for n in range(args.first, args.last + 1):
        truth = cv2.imread(str(args.data / "groundtruth" / f"gt{n:06d}.png"), cv2.IMREAD_GRAYSCALE)
        score.add(masks[n - 1] == 255, truth, roi)
    result = {"method": name, **score.figures(), "fps_per_core": round(len(masks) / cpu_s, 1)}
    print(
        f"{name:10s} F {result['f_measure']:.4f}  P {result['precision']:.4f}  R {result['recall']:.4f}  "
        f"{result['fps_per_core']:.0f} frames/s per core",
        flush=True,
    )
    return result


def vigil(grays: Frames, fps: float) -> tuple[list[npt.NDArray[np.uint8]], float]:
    detector = MotionDetector(fps=fps)
    return run_method(lambda i: detector.apply(grays[i]).mask, len(grays))


def opencv(make: Callable[[], Any], frames: Frames) -> tuple[list[npt.NDArray[np.uint8]], float]:
    subtractor = make()

    def apply(i: int) -> npt.NDArray[np.uint8]:
        fg = subtractor.apply(frames[i])
        return np.where(fg == 255, 255, 0).astype(np.uint8)  # 127 = shadow: not motion

    return run_method(apply, len(frames))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="score frames 470-900 only")
    parser.add_argument("--fps", type=float, default=10.0, help="frame rate for Vigil's time constants")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    first, last = (
        (int(v) for v in (args.data / "temporalROI.txt").read_text().split()[:2]) if args.data.is_dir() else (0, 0)
    )
    args.first, args.last = first, (min(last, 900) if args.quick else last)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.data.is_dir():
        print(f"needs the CDnet 2014 highway frames in {args.data} (../shared/data); nothing measured", file=sys.stderr)
        return 2
    cv2.setNumThreads(1)
    frames = [cv2.imread(str(args.data / "input" / f"in{n:06d}.jpg")) for n in range(1, args.last + 1)]
    grays = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in frames]
    h, w = grays[0].shape
    print(f"CDnet 2014 highway: {len(frames)} frames of {w}x{h}, scored {args.first}-{args.last} inside the ROI")
    results = [evaluate("vigil", *vigil(grays, args.fps), args)]
    results.append(evaluate("mog2", *opencv(cv2.createBackgroundSubtractorMOG2, frames), args))
    results.append(evaluate("mog2_gray", *opencv(cv2.createBackgroundSubtractorMOG2, grays), args))
    results.append(evaluate("knn", *opencv(cv2.createBackgroundSubtractorKNN, frames), args))
    other_rates = {}
    for fps in (5.0, 25.0):
        masks, cpu_s = vigil(grays, fps)
        other_rates[f"vigil_f_measure_at_{fps:g}_fps"] = evaluate(f"vigil@{fps:g}", masks, cpu_s, args)["f_measure"]
    by = {r["method"]: r for r in results}
    baselines = [by["mog2"], by["mog2_gray"], by["knn"]]
    summary = {
        "frames_scored": args.last - args.first + 1,
        "size": f"{w}x{h}",
        "fps_assumed": args.fps,
        **{f"{r['method']}_{k}": v for r in results for k, v in r.items() if k != "method"},
        **other_rates,
        "f_measure_over_best_baseline": round(by["vigil"]["f_measure"] / max(b["f_measure"] for b in baselines), 3),
        "speed_over_fastest_baseline": round(
            by["vigil"]["fps_per_core"] / max(b["fps_per_core"] for b in baselines), 3
        ),
    }
    summary["goal_met"] = summary["f_measure_over_best_baseline"] > 1 and summary["speed_over_fastest_baseline"] > 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
