"""Motion on the luminance plane of small frames: an adaptive per-pixel background with global-change handling.

Each pixel keeps a running mean and variance of its (lightly blurred) luminance. A pixel is foreground when it
differs from its mean by more than ``max(min_diff, k_sigma * std)``, after the frame's global brightness offset
is removed (the median difference over the unmasked picture), so auto-exposure and slow light changes do not
read as motion. When most of the picture changes at once (lights, IR switching, a camera knocked), the model
is rebuilt from the current frame and the frame is reported as a recalibration, not as motion.

The background learns quickly where the picture is still and slowly under foreground, so a car that parks
becomes background after ``absorb_s`` instead of staying motion for ever. The foreground is cleaned (median
filter, closing) and small specks dropped; regions are the bounding boxes of what remains, for gating the
object detector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Gray = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.uint8]  # 0 or 255
Plane = npt.NDArray[Any]  # an OpenCV result (its stubs do not say the dtype)


@dataclass(frozen=True, slots=True)
class MotionSettings:
    min_diff: float = 12.0  # luminance levels: differences below this are never motion
    k_sigma: float = 3.0  # ... nor below this many standard deviations of the pixel's own noise
    learn_s: float = 2.0  # time constant of the background where the picture is still
    absorb_s: float = 30.0  # ... and under foreground: something that stops becomes background
    recalibrate_fraction: float = 0.6  # this share of the picture changing at once is a global change
    min_region_fraction: float = 0.0005  # regions smaller than this share of the picture are noise
    settle_frames: int = 3  # frames after a (re)start that learn without reporting


@dataclass(frozen=True, slots=True)
class Region:
    x: int
    y: int
    width: int
    height: int
    pixels: int


@dataclass(frozen=True, slots=True)
class MotionResult:
    mask: Mask
    fraction: float  # share of the unmasked picture in motion
    regions: tuple[Region, ...] = ()
    recalibrated: bool = False


@dataclass
class MotionDetector:
    """Feed frames of one camera in order with :meth:`apply`. ``ignore`` (255 = ignored) masks out areas such
    as a clock overlay or a swaying tree; ``fps`` is the analysis rate, which turns the time constants into
    per-frame learning rates."""

    fps: float
    settings: MotionSettings = field(default_factory=MotionSettings)
    ignore: Mask | None = None
    _mean: npt.NDArray[np.float32] | None = None
    _var: npt.NDArray[np.float32] | None = None
    _settling: int = 0
    _kernel: npt.NDArray[np.uint8] = field(default_factory=lambda: np.ones((3, 3), np.uint8))

    def reset(self) -> None:
        self._mean = self._var = None

    def apply(self, gray: Gray) -> MotionResult:
        frame = cv2.GaussianBlur(gray, (3, 3), 0).astype(np.float32)
        if self._mean is None or self._var is None or self._mean.shape != frame.shape:
            return self._restart(frame, recalibrated=self._mean is not None)
        s = self.settings
        keep = self._keep(frame.shape)
        diff: Plane = cv2.subtract(frame, self._mean)
        sample = diff[::4, ::4] if keep is None else diff[::4, ::4][keep[::4, ::4]]
        offset = float(np.median(sample)) if sample.size else 0.0  # the picture's global brightness step
        diff -= offset
        k2 = s.k_sigma * s.k_sigma
        sq = cv2.multiply(diff, diff, scale=1.0 / k2)  # squared deviation in units of k_sigma**2
        np.maximum(self._var, np.float32(s.min_diff * s.min_diff / k2), out=self._var)  # the threshold's floor
        raw = cv2.compare(sq, self._var, cv2.CMP_GT)
        if keep is not None:
            raw[~keep] = 0
        total = int(np.count_nonzero(keep)) if keep is not None else raw.size
        if cv2.countNonZero(raw) > s.recalibrate_fraction * total:
            return self._restart(frame, recalibrated=True)
        frame -= offset
        self._learn(frame, sq, raw)
        if self._settling > 0:
            self._settling -= 1
            return MotionResult(np.zeros_like(gray), 0.0)
        mask = cv2.medianBlur(raw, 5)
        mask = np.asarray(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._kernel), dtype=np.uint8)
        regions, mask = self._regions(mask, total)
        return MotionResult(mask, float(cv2.countNonZero(mask)) / max(total, 1), regions)

    def _keep(self, shape: tuple[int, ...]) -> npt.NDArray[np.bool_] | None:
        if self.ignore is None:
            return None
        if self.ignore.shape != shape:
            raise ValueError(f"motion mask is {self.ignore.shape}, frames are {shape}")
        return np.asarray(self.ignore == 0, dtype=np.bool_)

    def _restart(self, frame: npt.NDArray[np.float32], *, recalibrated: bool) -> MotionResult:
        self._mean = frame.copy()
        self._var = np.full_like(frame, (self.settings.min_diff / self.settings.k_sigma) ** 2)
        self._settling = self.settings.settle_frames
        return MotionResult(np.zeros(frame.shape, np.uint8), 0.0, recalibrated=recalibrated)

    def _learn(self, frame: Plane, sq: Plane, raw: Plane) -> None:
        """Quick where the picture is still, slow under foreground; the noise variance only where still."""
        assert self._mean is not None and self._var is not None
        s = self.settings
        fast = min(1.0, 1.0 / max(s.learn_s * self.fps, 1.0))
        slow = min(1.0, 1.0 / max(s.absorb_s * self.fps, 1.0))
        still = cv2.bitwise_not(raw)
        cv2.accumulateWeighted(frame, self._mean, fast, still)
        cv2.accumulateWeighted(frame, self._mean, slow, raw)
        sq *= np.float32(s.k_sigma * s.k_sigma)  # back to levels**2
        cv2.accumulateWeighted(sq, self._var, fast, still)

    def _regions(self, mask: Plane, total: int) -> tuple[tuple[Region, ...], Mask]:
        """Connected regions big enough to matter; specks are removed from the mask as well."""
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_16U)
        if count <= 1:
            return (), mask
        min_pixels = max(1, int(self.settings.min_region_fraction * total))
        big = stats[:, cv2.CC_STAT_AREA] >= min_pixels
        big[0] = False
        if not big[1:].all():
            mask = np.where(big, np.uint8(255), np.uint8(0)).astype(np.uint8)[labels]
        regions = tuple(Region(*(int(v) for v in stats[i])) for i in np.flatnonzero(big))
        return regions, mask
