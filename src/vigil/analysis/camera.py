"""One camera's picture analysis: motion and picture faults, turned into events for the main process.

:class:`CameraAnalysis` is fed the luminance plane of each analysed frame with its wall time. Motion becomes one
``motion`` event per burst (it begins on the first moving frame and ends ``motion_end_s`` after the last);
each picture fault becomes a ``fault`` event from its onset until the picture recovers. Motion is not reported
while a fault is raised (a covered or moving picture says nothing about the scene).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vigil.analysis.faults import FaultChange, PictureFaults
from vigil.analysis.motion import MotionDetector, MotionResult
from vigil.domain.describe import duration_words
from vigil.domain.reports import AnalysisEvent, AnalysisEventEnd, Message


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    fps: float = 5.0
    motion: bool = True
    faults: bool = True
    motion_min_fraction: float = 0.001  # share of the picture moving that counts as motion
    motion_end_s: float = 3.0  # a motion event ends this long after the last moving frame


@dataclass
class CameraAnalysis:
    camera_id: str
    stream: str
    settings: AnalysisSettings = field(default_factory=AnalysisSettings)
    mask_polygons: tuple[tuple[tuple[float, float], ...], ...] = ()  # motion mask, normalised (0-1) corners
    tz: tzinfo = UTC  # the site's time zone, for the times in descriptions
    _motion: MotionDetector | None = None
    _faults: PictureFaults | None = None
    _motion_since: int | None = None
    _motion_last: int = 0
    _motion_peak: float = 0.0

    def __post_init__(self) -> None:
        self._motion = MotionDetector(fps=self.settings.fps)
        self._faults = PictureFaults(fps=self.settings.fps)

    def feed(self, gray: npt.NDArray[Any], at_us: int) -> list[Message]:
        assert self._motion is not None and self._faults is not None
        out: list[Message] = []
        if self.settings.faults:
            out += [self._fault_message(c) for c in self._faults.apply(gray, at_us)]
        if self.settings.motion:
            if self.mask_polygons and (self._motion.ignore is None or self._motion.ignore.shape != gray.shape):
                self._motion.ignore = rasterise(self.mask_polygons, gray.shape[:2])
            result = self._motion.apply(gray)
            out += self._motion_messages(result, at_us, faulted=bool(self._faults.active))
        return out

    def stop(self, at_us: int) -> list[Message]:
        """The stream stopped: end what is open."""
        out: list[Message] = []
        if self._motion_since is not None:
            out.append(self._motion_end(self._motion_last))
        assert self._faults is not None
        out += [AnalysisEventEnd(self.camera_id, f"fault:{kind.value}", at_us) for kind in self._faults.active]
        self._faults = PictureFaults(fps=self.settings.fps)
        assert self._motion is not None
        self._motion.reset()
        return out

    def _clock(self, at_us: int) -> str:
        return datetime.fromtimestamp(at_us / 1e6, tz=self.tz).strftime("%H:%M:%S")

    def _fault_message(self, change: FaultChange) -> Message:
        key = f"fault:{change.kind.value}"
        if change.raised:
            text = f"Camera fault from {self._clock(change.onset_us)}: {change.detail}"
            data = {"fault": change.kind.value, "raised_us": change.at_us}
            return AnalysisEvent(self.camera_id, self.stream, key, "fault", change.onset_us, None, text, data)
        took = duration_words((change.at_us - change.onset_us) / 1e6)
        text = f"Camera fault ({change.kind.value}) from {self._clock(change.onset_us)}, recovered after {took}"
        return AnalysisEventEnd(self.camera_id, key, change.at_us, text)

    def _motion_messages(self, result: MotionResult, at_us: int, *, faulted: bool) -> list[Message]:
        moving = not faulted and result.fraction >= self.settings.motion_min_fraction
        if moving:
            self._motion_last = at_us
            self._motion_peak = max(self._motion_peak, result.fraction)
            if self._motion_since is None:
                self._motion_since = at_us
                text = f"Motion from {self._clock(at_us)}"
                h, w = result.mask.shape[:2]
                regions = [[r.x / w, r.y / h, r.width / w, r.height / h] for r in result.regions]
                data: dict[str, Any] = {"regions": regions}
                return [AnalysisEvent(self.camera_id, self.stream, "motion", "motion", at_us, None, text, data)]
            return []
        if self._motion_since is not None and at_us - self._motion_last >= self.settings.motion_end_s * 1e6:
            return [self._motion_end(self._motion_last)]
        return []

    def _motion_end(self, end_us: int) -> Message:
        assert self._motion_since is not None
        took = duration_words(max(0, end_us - self._motion_since) / 1e6)
        peak = 100 * self._motion_peak
        text = f"Motion from {self._clock(self._motion_since)} for {took} (at most {peak:.1f}% of the picture)"
        self._motion_since, self._motion_peak = None, 0.0
        return AnalysisEventEnd(self.camera_id, "motion", max(end_us, 1), text)


def rasterise(polygons: tuple[tuple[tuple[float, float], ...], ...], shape: tuple[int, ...]) -> npt.NDArray[Any]:
    """Normalised polygons as a mask of ``shape`` (height, width): 255 inside any of them."""
    height, width = shape[0], shape[1]
    mask = np.zeros((height, width), np.uint8)
    scaled = [np.array([[round(x * (width - 1)), round(y * (height - 1))] for x, y in p], np.int32) for p in polygons]
    cv2.fillPoly(mask, scaled, 255)
    return mask
