"""Helpers for privacy tests: a mask over part of the synthetic picture, and whether a decoded picture has it
filled in (flat mid grey) or shows the footage (the synthetic clip's checkerboard varies everywhere)."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

# the top left of the picture, clear of the frame counter at the bottom
MASK = [[0.05, 0.05], [0.45, 0.05], [0.45, 0.3], [0.05, 0.3]]
INSET = 0.02  # look inside the polygon, away from its edges (compression blurs them)


def region(picture: np.ndarray, polygon: list[list[float]] = MASK) -> np.ndarray:
    height, width = picture.shape[:2]
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    x1, x2 = int((min(xs) + INSET) * width), int((max(xs) - INSET) * width)
    y1, y2 = int((min(ys) + INSET) * height), int((max(ys) - INSET) * height)
    return picture[y1:y2, x1:x2].astype(np.float32)


def is_masked(picture: np.ndarray, polygon: list[list[float]] = MASK) -> bool:
    inside = region(picture, polygon)
    return abs(float(inside.mean()) - 128) < 6 and float(inside.std()) < 4


def shows_footage(picture: np.ndarray, polygon: list[list[float]] = MASK) -> bool:
    return float(region(picture, polygon).std()) > 10


def outside_untouched(picture: np.ndarray, polygon: list[list[float]] = MASK) -> bool:
    """The bottom right quarter (outside the mask) still shows the footage."""
    height, width = picture.shape[:2]
    return float(picture[height // 2 : height - height // 8, width // 2 :].astype(np.float32).std()) > 10


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


def decoded_bytes(data: bytes, folder: Path, name: str = "stream.mp4") -> list[np.ndarray]:
    path = folder / name
    path.write_bytes(data)
    return decoded(path)


def jpeg_picture(data: bytes) -> np.ndarray:
    picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None, "not a JPEG"
    return picture
