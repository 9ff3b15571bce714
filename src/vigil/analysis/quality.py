"""Picture quality of a camera, measured on a few frames (the daily check of ``vigil.usecases.quality_watch``):

- **sharpness**: the finest detail against the next scale: the mean absolute Laplacian at 640 px over the same at
  320 px (so a darker or flatter picture of the same scene keeps its sharpness); a film of dirt, fog or a slightly
  turned focus ring takes the finest scale first, long before the picture looks blurred;
- **contrast**: the spread of luminance (5th to 95th percentile); haze and fog lift the blacks and lower it;
- **brightness**: the median luminance; a failing IR light darkens the night picture;
- **noise**: Immerkaer's estimate (the residual of a Laplacian-like mask, in levels); it rises as the picture
  darkens and the camera's gain goes up;
- **cast**: how far the picture's average colour is from grey (CIELAB a*, b* distance); a failing filter or a
  yellowed dome shifts it.

Each figure is the median over the frames given, so a passer-by in one frame does not move it. Pure computation on
arrays (numpy, OpenCV); no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vigil.domain.degradation import QualityMeasures

WIDTH = 640
NOISE_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def _one(bgr: npt.NDArray[Any]) -> tuple[float, float, float, float, float]:
    h, w = bgr.shape[:2]
    if w != WIDTH:
        bgr = cv2.resize(bgr, (WIDTH, max(2, round(h * WIDTH / w))), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    p5, p50, p95 = (float(v) for v in np.percentile(gray, (5, 50, 95)))
    contrast = max(p95 - p5, 1.0)
    fine = float(np.mean(np.abs(cv2.Laplacian(gray, cv2.CV_32F))))
    coarse = float(np.mean(np.abs(cv2.Laplacian(cv2.pyrDown(gray), cv2.CV_32F))))
    sharpness = fine / max(coarse, 1e-6)
    residual = cv2.filter2D(gray, cv2.CV_32F, NOISE_MASK)
    hh, ww = gray.shape
    noise = math.sqrt(math.pi / 2) * float(np.sum(np.abs(residual[1:-1, 1:-1]))) / (6 * (ww - 2) * (hh - 2))
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    a, b = float(np.mean(lab[:, :, 1])) - 128, float(np.mean(lab[:, :, 2])) - 128
    return sharpness, contrast, p50, noise, math.hypot(a, b)


def measure_quality(frames: Sequence[npt.NDArray[Any]]) -> QualityMeasures:
    """The median of each figure over ``frames`` (BGR); ValueError when there is none."""
    if not frames:
        raise ValueError("no frame to measure")
    rows = np.array([_one(f) for f in frames], dtype=float)
    med = np.median(rows, axis=0)
    return QualityMeasures(
        sharpness=round(float(med[0]), 5),
        contrast=round(float(med[1]), 3),
        brightness=round(float(med[2]), 3),
        noise=round(float(med[3]), 4),
        cast=round(float(med[4]), 3),
    )
