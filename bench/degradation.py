"""The daily picture-quality check against real footage made progressively worse: how many days before the picture
becomes a fault it speaks, and how often it speaks on footage that does not degrade.

Every clip of ``../shared/data`` (PETS09-S2L1, TUD-Campus, the three Intel samples, the motorway CCTV, the first two
seconds of the tampering scene, and CDnet's highway frames) plays 60 "days": each day's sample is measured
(``vigil.analysis.quality``) on five frames from a different stretch of the clip, so people, cars and light move from
day to day as they do. On the degraded runs the picture stays healthy until day 20, then worsens steadily until day 60:

- **dirt / defocus**: a Gaussian blur growing to sigma 3 px (at 640 px wide);
- **fog / haze**: the picture blended with light grey, up to 70%;
- **IR light failing** (a night picture): the luminance scaled down to 25%.

The check (``vigil.domain.degradation.findings``, shipped thresholds) runs after each day; *the day it fires* is the
first with a finding. *The day it becomes a fault* is the first day whose degraded picture, shown to the picture-fault
detector (``vigil.analysis.faults``) after a minute of the healthy picture as its reference, raises any fault within
four seconds: what would happen if that state came at once. Lead = fault day - check day (``fault_never`` when the
detector never raises one within the 60 days). False alarms: the days the check fires on the undegraded runs.

``--quick``: 4 clips. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from vigil.analysis.faults import PictureFaults  # noqa: E402
from vigil.analysis.quality import measure_quality  # noqa: E402
from vigil.domain.degradation import DegradationSettings, QualitySample, findings  # noqa: E402

DATA = HERE.parent.parent / "shared" / "data"
DAYS, ONSET, FRAMES_PER_DAY = 60, 20, 5
CLIPS = [
    ("pets", DATA / "pets09-s2l1" / "vtest.avi"),
    ("tud", DATA / "tud-campus" / "TUD-Campus.mp4"),
    ("intel-car", DATA / "intel-samples" / "car-detection.mp4"),
    ("intel-person", DATA / "intel-samples" / "one-by-one-person-detection.mp4"),
    ("intel-parking", DATA / "intel-samples" / "person-bicycle-car-detection.mp4"),
    ("motorway", DATA / "cctv" / "motorway-timestamp.avi"),
    ("tampering-scene", DATA / "tampering" / "Occlusion.mp4"),
    ("highway", DATA / "cdnet2014-highway"),
]


def frames_of(path: Path, limit: int = 240) -> list[np.ndarray]:
    if path.is_dir():  # CDnet: a folder of JPEG frames
        files = sorted((path / "input").glob("*.jpg")) or sorted(path.glob("**/in*.jpg"))
        step = max(1, len(files) // limit)
        return [cv2.imread(str(f)) for f in files[::step][:limit]]
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
    if path.name == "Occlusion.mp4":
        frames = frames[:55]  # the sheet arrives at 2 s: only the healthy scene
    step = max(1, len(frames) // limit)
    return frames[::step][:limit]


def scaled(bgr: np.ndarray) -> np.ndarray:
    h, w = bgr.shape[:2]
    return cv2.resize(bgr, (640, round(h * 640 / w)), interpolation=cv2.INTER_AREA) if w != 640 else bgr


def blur(bgr: np.ndarray, p: float) -> np.ndarray:
    return cv2.GaussianBlur(bgr, (0, 0), 3.0 * p) if p > 0.02 else bgr


def haze(bgr: np.ndarray, p: float) -> np.ndarray:
    return cv2.addWeighted(bgr, 1 - 0.7 * p, np.full_like(bgr, 205), 0.7 * p, 0)


def darken(bgr: np.ndarray, p: float) -> np.ndarray:
    return cv2.convertScaleAbs(bgr, alpha=1 - 0.75 * p)


WORSE: dict[str, tuple[Callable[[np.ndarray, float], np.ndarray], str]] = {
    "dirt": (blur, "day"),
    "fog": (haze, "day"),
    "ir_failing": (darken, "night"),
}


def weather(bgr: np.ndarray, day: int) -> np.ndarray:
    """A day's light: a gain of 0.85-1.15 and an offset of -10..10 levels, the same for the day's frames (seeded by
    the day), as cloud and sun change a picture from one day to the next."""
    rng = np.random.default_rng(1000 + day)
    return cv2.convertScaleAbs(bgr, alpha=float(rng.uniform(0.85, 1.15)), beta=float(rng.uniform(-10, 10)))


def severity(day: int) -> float:
    return 0.0 if day < ONSET else (day - ONSET + 1) / (DAYS - ONSET)


def day_frames(frames: Sequence[np.ndarray], day: int) -> list[np.ndarray]:
    n = len(frames)
    return [frames[(day * 7 + j * max(1, n // FRAMES_PER_DAY)) % n] for j in range(FRAMES_PER_DAY)]


def check_day(
    frames: Sequence[np.ndarray],
    worse: Callable[[np.ndarray, float], np.ndarray] | None,
    period: str,
    settings: DegradationSettings,
    lit: bool = False,
) -> int | None:
    samples: list[QualitySample] = []
    for day in range(DAYS):
        p = severity(day) if worse is not None else 0.0
        shown = [worse(f, p) if worse is not None else f for f in day_frames(frames, day)]
        if lit:
            shown = [weather(f, day) for f in shown]
        samples.append(QualitySample("cam", day * 86_400_000_000, period, measure_quality(shown)))
        if findings(samples, settings):
            return day
    return None


def fault_day(frames: Sequence[np.ndarray], worse: Callable[[np.ndarray, float], np.ndarray]) -> int | None:
    """The first day whose degraded picture, after a minute of the healthy one, raises a picture fault."""

    def gray(bgr: np.ndarray) -> np.ndarray:
        g = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        return cv2.resize(g, (320, round(g.shape[0] * 320 / g.shape[1])), interpolation=cv2.INTER_AREA)

    for day in range(ONSET, DAYS):
        checker, t = PictureFaults(fps=5.0), 0
        for k in range(300):  # 60 s of the healthy scene at 5 fps
            checker.apply(gray(frames[k % len(frames)]), t)
            t += 200_000
        p = severity(day)
        for k in range(20):  # 4 s of the degraded picture
            if any(c.raised for c in checker.apply(gray(worse(frames[(k + day) % len(frames)], p)), t)):
                return day
            t += 200_000
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    clips = [(n, p) for n, p in CLIPS if p.exists()]
    if not clips:
        print(json.dumps({"bench": "degradation", "skipped": "../shared/data is absent"}))
        return 0
    if args.quick:
        clips = clips[:4]
    settings = DegradationSettings()
    rows: list[dict[str, Any]] = []
    false_alarms = weather_alarms = 0
    for name, path in clips:
        frames = [scaled(f) for f in frames_of(path) if f is not None]
        normal = check_day(frames, None, "day", settings)
        weathered = check_day(frames, None, "day", settings, lit=True)
        false_alarms += normal is not None
        weather_alarms += weathered is not None
        row: dict[str, Any] = {"clip": name, "normal_fired_day": normal, "weather_fired_day": weathered}
        for kind, (worse, period) in WORSE.items():
            fired = check_day(frames, worse, period, settings)
            fault = fault_day(frames, worse)
            row[f"{kind}_check_day"] = fired
            row[f"{kind}_fault_day"] = fault
            row[f"{kind}_lead_days"] = (fault if fault is not None else DAYS) - fired if fired is not None else None
        rows.append(row)
        print(json.dumps(row), flush=True)
    result: dict[str, Any] = {"bench": "degradation", "quick": args.quick, "clips": len(rows)}
    result |= {"false_alarm_clips": false_alarms, "false_alarm_clips_with_weather": weather_alarms}
    for kind in WORSE:
        leads = [r[f"{kind}_lead_days"] for r in rows if r[f"{kind}_lead_days"] is not None]
        result[f"{kind}_detected"] = f"{len(leads)}/{len(rows)}"
        result[f"{kind}_median_lead_days"] = float(np.median(leads)) if leads else None
        result[f"{kind}_min_lead_days"] = min(leads) if leads else None
        days = [r[f"{kind}_check_day"] for r in rows if r[f"{kind}_check_day"] is not None]
        result[f"{kind}_median_check_day"] = float(np.median(days)) if days else None
        result[f"{kind}_fault_never"] = sum(1 for r in rows if r[f"{kind}_fault_day"] is None)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
