"""Faces with CenterFace (ONNX Runtime on the CPU), for redaction.

CenterFace is anchor-free: for a picture of ``W`` x ``H`` (multiples of 32, RGB, 0-255, no normalisation) it gives,
at a quarter of the resolution, a heat map of face centres, the log of each face's size (height, width, in units
of the stride) and the centre's offset within its cell. A face is a heat-map cell above the threshold; boxes are
then thinned by non-maximum suppression. Small faces (under about 10 pixels) are found when the picture is
enlarged first: ``upscale``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from vigil.analysis.wheel_models import centerface_session

STRIDE = 4
Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in the picture's pixels


@dataclass(frozen=True, slots=True)
class Face:
    score: float
    box: Box


class FaceFinder:
    """CenterFace in one ONNX Runtime session. Not thread-safe."""

    def __init__(self, threshold: float = 0.5, upscale: float = 1.0, threads: int = 1) -> None:
        self.threshold = threshold
        self.upscale = upscale
        self._session = centerface_session(threads)
        self._input = self._session.get_inputs()[0].name

    def find(self, bgr: npt.NDArray[np.uint8], upscale: float | None = None) -> list[Face]:
        """The faces in ``bgr``, in its pixels."""
        height, width = bgr.shape[:2]
        scale = self.upscale if upscale is None else upscale
        in_w, in_h = _multiple(width * scale), _multiple(height * scale)
        rgb = cv2.cvtColor(cv2.resize(bgr, (in_w, in_h), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2RGB)
        blob = np.ascontiguousarray(rgb.transpose(2, 0, 1)[None], dtype=np.float32)
        heat, size, offset, _landmarks = self._session.run(None, {self._input: blob})
        rows, cols = np.nonzero(heat[0, 0] > self.threshold)
        if not len(rows):
            return []
        scores = heat[0, 0, rows, cols]
        box_h = np.exp(size[0, 0, rows, cols]) * STRIDE
        box_w = np.exp(size[0, 1, rows, cols]) * STRIDE
        cy = (rows + offset[0, 0, rows, cols] + 0.5) * STRIDE
        cx = (cols + offset[0, 1, rows, cols] + 0.5) * STRIDE
        sx, sy = width / in_w, height / in_h
        x1, y1 = np.clip((cx - box_w / 2) * sx, 0, width), np.clip((cy - box_h / 2) * sy, 0, height)
        x2, y2 = np.clip((cx + box_w / 2) * sx, 0, width), np.clip((cy + box_h / 2) * sy, 0, height)
        xywh = [[float(a), float(b), float(c - a), float(d - b)] for a, b, c, d in zip(x1, y1, x2, y2, strict=True)]
        kept = np.asarray(cv2.dnn.NMSBoxes(xywh, [float(s) for s in scores], self.threshold, 0.3), np.intp)
        return [
            Face(float(scores[k]), (float(x1[k]), float(y1[k]), float(x2[k]), float(y2[k]))) for k in kept.reshape(-1)
        ]


def _multiple(size: float, of: int = 32) -> int:
    return max(of, math.ceil(size / of) * of)
