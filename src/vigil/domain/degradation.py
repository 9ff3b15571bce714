"""Slow degradation of a camera's picture: each day's quality sample (by day and by night) against the camera's own
baseline, so a lens getting dirty, fog, or an IR light failing show weeks before they become a fault. Pure: the
measuring is ``vigil.analysis.quality``.

The **baseline** of a period (day or night) is the median of its first ``baseline_samples`` samples since the camera
was last reset (installed, replaced, or cleaned on a degradation ticket); **recent** is the median of its last
``window`` samples. A figure has degraded when recent is past its threshold against the baseline *and* outside the
baseline's own spread (``spread_k`` median absolute deviations: a scene that varies from day to day needs a bigger
change to count):

- sharpness below ``sharp_ratio`` of the baseline (dirt, fog, defocus), contrast below ``contrast_ratio`` (haze);
- brightness below ``dark_ratio`` (an IR light failing at night, a dome darkening);
- noise above ``noise_ratio`` (the gain rising as light fails);
- colour cast moved by more than ``cast_shift`` (CIELAB a*b* distance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

METRICS = ("sharpness", "contrast", "brightness", "noise", "cast")


@dataclass(frozen=True, slots=True)
class QualityMeasures:
    sharpness: float
    contrast: float
    brightness: float
    noise: float
    cast: float

    def get(self, name: str) -> float:
        return float(getattr(self, name))


@dataclass(frozen=True, slots=True)
class QualitySample:
    camera_id: str
    at_us: int
    period: str  # day | night
    measures: QualityMeasures
    day: str = ""  # the site's local date, YYYY-MM-DD
    frames: int = 0  # how many pictures it was measured on


@dataclass(frozen=True, slots=True)
class DegradationSettings:
    baseline_samples: int = 7
    window: int = 3
    sharp_ratio: float = 0.85
    contrast_ratio: float = 0.88
    dark_ratio: float = 0.85
    noise_ratio: float = 1.8
    cast_shift: float = 8.0
    spread_k: float = 4.0


@dataclass(frozen=True, slots=True)
class Finding:
    period: str
    metric: str
    baseline: float
    recent: float

    @property
    def ratio(self) -> float:
        return self.recent / self.baseline if self.baseline else 0.0

    def describe(self) -> str:
        words = {
            "sharpness": "sharpness",
            "contrast": "contrast",
            "brightness": "brightness",
            "noise": "noise",
            "cast": "colour cast",
        }[self.metric]
        if self.metric == "cast":
            return f"{self.period}: {words} moved from {self.baseline:.1f} to {self.recent:.1f}"
        share = f"{100 * self.ratio:.0f}%"
        return f"{self.period}: {words} at {share} of its usual ({self.recent:.3g} against {self.baseline:.3g})"


def _mad(values: Sequence[float]) -> float:
    m = median(values)
    return median(abs(v - m) for v in values)


def _windows(
    samples: Sequence[QualitySample], settings: DegradationSettings, period: str, since_us: int, recent_from_us: int
) -> tuple[list[QualityMeasures], list[QualityMeasures]] | None:
    """A period's baseline (its first ``baseline_samples`` since ``since_us``) and recent window (its latest
    ``window`` after the baseline and at or after ``recent_from_us``); None when either is not full yet."""
    rows = [s for s in samples if s.period == period and s.at_us >= since_us]
    base = [r.measures for r in rows[: settings.baseline_samples]]
    recent = [r.measures for r in rows[settings.baseline_samples :] if r.at_us >= recent_from_us]
    if len(base) < settings.baseline_samples or len(recent) < settings.window:
        return None
    return base, recent[-settings.window :]


def _declined(metric: str, base: float, recent: float, margin: float, s: DegradationSettings) -> bool:
    if metric == "cast":
        return recent - base > max(s.cast_shift, margin)
    if metric == "noise":
        return recent > s.noise_ratio * base and recent - base > margin
    ratio = {"sharpness": s.sharp_ratio, "contrast": s.contrast_ratio, "brightness": s.dark_ratio}[metric]
    return recent < ratio * base and base - recent > margin


def findings(
    samples: Sequence[QualitySample], settings: DegradationSettings, since_us: int = 0, recent_from_us: int = 0
) -> list[Finding]:
    """What has degraded, per period, from the samples taken since ``since_us`` (oldest first). The recent window
    is taken only from samples at or after ``recent_from_us`` (a repair's check); a period without enough of them
    is not judged."""
    out: list[Finding] = []
    for period in ("day", "night"):
        windows = _windows(samples, settings, period, since_us, recent_from_us)
        if windows is None:
            continue
        base_rows, recent_rows = windows
        for metric in METRICS:
            base_values = [r.get(metric) for r in base_rows]
            base, margin = median(base_values), settings.spread_k * _mad(base_values)
            recent = median(r.get(metric) for r in recent_rows)
            if _declined(metric, base, recent, margin, settings):
                out.append(Finding(period, metric, round(base, 5), round(recent, 5)))
    return out


def baselines(
    samples: Sequence[QualitySample], settings: DegradationSettings, since_us: int = 0
) -> dict[str, dict[str, float]]:
    """Per period with a full baseline: each figure's baseline (the median of its first samples since ``since_us``)."""
    out: dict[str, dict[str, float]] = {}
    for period in ("day", "night"):
        rows = [s.measures for s in samples if s.period == period and s.at_us >= since_us][: settings.baseline_samples]
        if len(rows) == settings.baseline_samples:
            out[period] = {m: round(median(r.get(m) for r in rows), 5) for m in METRICS}
    return out


def judged_periods(
    samples: Sequence[QualitySample], settings: DegradationSettings, since_us: int, after_us: int
) -> int:
    """How many periods have a baseline and a full recent window after ``after_us`` (a repair is judged on them)."""
    return sum(_windows(samples, settings, p, since_us, after_us) is not None for p in ("day", "night"))
