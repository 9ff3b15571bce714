"""Text regions (licence plates, signs) with PP-OCRv4's text detector (a DB network, ONNX Runtime on the CPU),
for redaction. Only where text is, never what it says: the recogniser is not used.

The network takes a BGR picture scaled to 0..1 then to -1..1, sides multiples of 32, and gives the probability that
each pixel is text. Pixels above ``threshold`` are joined into regions (OpenCV contours); a region whose mean
probability is at least ``box_threshold`` is kept, its box grown by ``unclip`` (DB shrinks text regions while
training, so its raw regions are smaller than the text) and mapped back to the picture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from vigil.analysis.wheel_models import text_session

Box = tuple[float, float, float, float]
MIN_REGION_PX = 3


class TextFinder:
    """PP-OCRv4 text detection in one ONNX Runtime session. Not thread-safe."""

    def __init__(
        self,
        threshold: float = 0.3,
        box_threshold: float = 0.5,
        unclip: float = 1.6,
        min_side_px: int = 96,
        max_side_px: int = 960,
        threads: int = 1,
    ) -> None:
        self.threshold, self.box_threshold, self.unclip = threshold, box_threshold, unclip
        self.min_side_px, self.max_side_px = min_side_px, max_side_px
        self._session = text_session(threads)
        self._input = self._session.get_inputs()[0].name

    def find(self, bgr: npt.NDArray[np.uint8]) -> list[Box]:
        """Boxes of text in ``bgr``, in its pixels. Small pictures (a vehicle's crop) are enlarged first."""
        height, width = bgr.shape[:2]
        if height < MIN_REGION_PX or width < MIN_REGION_PX:
            return []
        scale = max(1.0, self.min_side_px / min(height, width))
        scale = min(scale, self.max_side_px / max(height, width))
        in_w, in_h = _multiple(width * scale), _multiple(height * scale)
        resized = cv2.resize(bgr, (in_w, in_h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        blob = ((resized / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
        (prob,) = self._session.run(None, {self._input: np.ascontiguousarray(blob, dtype=np.float32)})
        return self._boxes(np.asarray(prob[0, 0], np.float32), width / in_w, height / in_h, width, height)

    def find_in(self, bgr: npt.NDArray[np.uint8], regions: Sequence[Box], margin: float = 0.05) -> list[Box]:
        """Text inside each region (a vehicle's box), in the whole picture's pixels."""
        height, width = bgr.shape[:2]
        found: list[Box] = []
        for x1, y1, x2, y2 in regions:
            mx, my = (x2 - x1) * margin, (y2 - y1) * margin
            left, top = max(0, int(x1 - mx)), max(0, int(y1 - my))
            right, bottom = min(width, math.ceil(x2 + mx)), min(height, math.ceil(y2 + my))
            if right - left < MIN_REGION_PX or bottom - top < MIN_REGION_PX:
                continue
            crop = np.ascontiguousarray(bgr[top:bottom, left:right])
            found += [(a + left, b + top, c + left, d + top) for a, b, c, d in self.find(crop)]
        return found

    def _boxes(self, prob: npt.NDArray[np.float32], sx: float, sy: float, width: int, height: int) -> list[Box]:
        mask = np.asarray(cv2.dilate((prob > self.threshold).astype(np.uint8), np.ones((2, 2), np.uint8)), np.uint8)
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        boxes: list[Box] = []
        for contour in contours:
            x, y, w, h = cv2.boundingRect(contour)
            if min(w, h) < MIN_REGION_PX:
                continue
            if float(prob[y : y + h, x : x + w][mask[y : y + h, x : x + w] > 0].mean()) < self.box_threshold:
                continue
            grow = w * h * self.unclip / (2 * (w + h))  # DB's unclip distance for a rectangle
            boxes.append(
                (
                    max(0.0, (x - grow) * sx),
                    max(0.0, (y - grow) * sy),
                    min(float(width), (x + w + grow) * sx),
                    min(float(height), (y + h + grow) * sy),
                )
            )
        return boxes


def _multiple(size: float, of: int = 32) -> int:
    return max(of, math.ceil(size / of) * of)
