"""One camera's picture analysis: motion, picture faults and objects, turned into events for the main process.

:class:`CameraAnalysis` is fed the luminance plane of each analysed frame with its wall time. Motion becomes one
``motion`` event per burst (it begins on the first moving frame and ends ``motion_end_s`` after the last);
each picture fault becomes a ``fault`` event from its onset until the picture recovers. Motion is not reported
while a fault is raised (a covered or moving picture says nothing about the scene).

With a :class:`~vigil.ports.DetectionLink`, motion gates detection: when something moves (or an object is being
followed) and the detector is free, the colour picture is asked for and the part worth looking at is sent
(:mod:`vigil.analysis.gating`), and the whole picture on the first frame and every ``whole_look_s`` (people
and vehicles that were there before watching began, or never moved since); the reply, picked up on a later
frame, goes to the camera's :class:`~vigil.analysis.objects.ObjectWatch` (tracks, rules, their events).
Nothing is sent while a fault is raised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vigil.analysis.faults import FaultChange, PictureFaults
from vigil.analysis.gating import Area, detection_crop
from vigil.analysis.motion import MotionDetector, MotionResult
from vigil.analysis.objects import ObjectWatch
from vigil.domain.describe import duration_words
from vigil.domain.reports import AnalysisEvent, AnalysisEventEnd, Message
from vigil.domain.rules import Rule
from vigil.ports import DetectionLink, Picture, Pictured


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    fps: float = 5.0
    motion: bool = True
    faults: bool = True
    motion_min_fraction: float = 0.001  # share of the picture moving that counts as motion
    motion_end_s: float = 3.0  # a motion event ends this long after the last moving frame
    whole_look_s: float = 10.0  # the whole picture is looked at this often, motion or not (0: never)


@dataclass
class CameraAnalysis:
    camera_id: str
    stream: str
    settings: AnalysisSettings = field(default_factory=AnalysisSettings)
    mask_polygons: tuple[tuple[tuple[float, float], ...], ...] = ()  # motion mask, normalised (0-1) corners
    tz: tzinfo = UTC  # the site's time zone, for the times in descriptions
    detection: DetectionLink | None = None  # None: no object detection
    rules: tuple[Rule, ...] = ()
    report_objects: bool = True  # every confirmed track is an ``object`` event
    model_input: tuple[int, int] = (416, 416)  # the detector's input (width, height): crops are shaped to it
    detections: int = 0  # replies received (for tests and benchmarks)
    _objects: ObjectWatch | None = None
    _whole_us: int | None = None  # when the whole picture was last looked at
    _motion: MotionDetector | None = None
    _faults: PictureFaults | None = None
    _motion_since: int | None = None
    _motion_last: int = 0
    _motion_peak: float = 0.0

    def __post_init__(self) -> None:
        self._motion = MotionDetector(fps=self.settings.fps)
        self._faults = PictureFaults(fps=self.settings.fps)
        self._objects = ObjectWatch(
            self.camera_id, self.stream, self.settings.fps, self.rules, self.report_objects, self.tz
        )

    def feed(self, gray: npt.NDArray[Any], at_us: int, picture: Picture | None = None) -> list[Message | Pictured]:
        assert self._motion is not None and self._faults is not None and self._objects is not None
        out: list[Message | Pictured] = []
        if self.settings.faults:
            out += [self._fault_message(c) for c in self._faults.apply(gray, at_us)]
        faulted = bool(self._faults.active)
        moving: list[Area] = []
        if self.settings.motion or self.detection is not None:
            if self.mask_polygons and (self._motion.ignore is None or self._motion.ignore.shape != gray.shape):
                self._motion.ignore = rasterise(self.mask_polygons, gray.shape[:2])
            result = self._motion.apply(gray)
            if self.settings.motion:
                out += self._motion_messages(result, at_us, faulted=faulted)
            if result.fraction >= self.settings.motion_min_fraction:
                h, w = gray.shape[:2]
                moving = [(r.x / w, r.y / h, (r.x + r.width) / w, (r.y + r.height) / h) for r in result.regions]
        if self.detection is not None:
            out += self.collect(at_us)  # the reply to an earlier frame, before this one may go
            if picture is not None and not faulted and not self.detection.busy:
                areas = moving + self._objects.areas(at_us)
                whole = self.settings.whole_look_s
                if whole > 0 and (self._whole_us is None or at_us - self._whole_us >= whole * 1e6):
                    areas, self._whole_us = [(0.0, 0.0, 1.0, 1.0)], at_us  # what never moved while watched
                if areas:
                    frame = picture()
                    crop = detection_crop(areas, frame.shape[1], frame.shape[0], self.model_input)
                    if crop is not None:
                        self.detection.submit(frame, crop, at_us)
        return out

    def collect(self, at_us: int) -> list[Message | Pictured]:
        if self.detection is None:
            return []
        assert self._objects is not None
        reply = self.detection.poll()
        if reply is None:
            return []
        self.detections += 1
        return self._objects.reply(reply)

    def stop(self, at_us: int) -> list[Message | Pictured]:
        """The stream stopped: end what is open."""
        assert self._objects is not None
        out: list[Message | Pictured] = list(self._objects.stop(at_us))
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
