"""Measure how a new camera's view relates to the old one's: ORB features of both pictures (at 640 px wide, grey),
matched by Hamming distance with Lowe's ratio test, and a similarity transform (shift, rotation, zoom) fitted by
RANSAC (``cv2.estimateAffinePartial2D``). Too few features, or too few agreeing, is no match: a different scene, or
a picture with nothing to hold on to (black, covered)."""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from vigil.domain.view_match import Matrix, ViewMatch

WIDTH = 640
MIN_INLIERS = 25
RATIO = 0.75


def _gray(jpeg: bytes) -> npt.NDArray[Any] | None:
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    if picture is None:
        return None
    h, w = picture.shape[:2]
    return cv2.resize(picture, (WIDTH, round(h * WIDTH / w)), interpolation=cv2.INTER_AREA) if w != WIDTH else picture


def match_views(old_jpeg: bytes, new_jpeg: bytes) -> ViewMatch:
    """The old view (the camera's last healthy picture) against the new one (its picture now)."""
    old, new = _gray(old_jpeg), _gray(new_jpeg)
    if old is None or new is None:
        return ViewMatch(False, reason="a picture could not be read")
    orb = cv2.ORB_create(nfeatures=2000)  # type: ignore[attr-defined]
    k0, d0 = orb.detectAndCompute(old, None)
    k1, d1 = orb.detectAndCompute(new, None)
    if d0 is None or d1 is None or len(k0) < MIN_INLIERS or len(k1) < MIN_INLIERS:
        return ViewMatch(False, reason="too little detail in a picture to compare")
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(d0, d1, k=2)
    good = [m for m, *rest in pairs if rest and m.distance < RATIO * rest[0].distance]
    if len(good) < MIN_INLIERS:
        return ViewMatch(False, inliers=len(good), reason=f"only {len(good)} features in common: another scene?")
    src = np.array([k0[m.queryIdx].pt for m in good], np.float32)
    dst = np.array([k1[m.trainIdx].pt for m in good], np.float32)
    matrix, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=3.0)
    inliers = int(mask.sum()) if mask is not None else 0
    if matrix is None or inliers < MIN_INLIERS:
        return ViewMatch(False, inliers=inliers, reason=f"only {inliers} features agree on a movement")
    (h0, w0), (h1, w1) = old.shape[:2], new.shape[:2]
    a, b, tx = (float(v) for v in matrix[0])
    c, d, ty = (float(v) for v in matrix[1])
    zoom = math.hypot(a, c)
    rotation = math.degrees(math.atan2(c, a))
    centre = (a * w0 / 2 + b * h0 / 2 + tx, c * w0 / 2 + d * h0 / 2 + ty)
    normalised: Matrix = (
        (a * w0 / w1, b * h0 / w1, tx / w1),
        (c * w0 / h1, d * h0 / h1, ty / h1),
    )
    return ViewMatch(
        True,
        inliers=inliers,
        shift_x=round(centre[0] / w1 - 0.5, 4),
        shift_y=round(centre[1] / h1 - 0.5, 4),
        rotation_deg=round(rotation, 2),
        zoom=round(zoom, 4),
        overlap=round(_overlap(matrix, w0, h0, w1, h1), 4),
        matrix=normalised,
    )


def _overlap(matrix: npt.NDArray[Any], w0: int, h0: int, w1: int, h1: int) -> float:
    """Share of the old view's area that falls inside the new picture."""
    corners = np.array([[0, 0], [w0, 0], [w0, h0], [0, h0]], np.float32).reshape(-1, 1, 2)
    warped = cv2.transform(corners, matrix).reshape(-1, 2).astype(np.float32)
    frame = np.array([[0, 0], [w1, 0], [w1, h1], [0, h1]], np.float32)
    area, _ = cv2.intersectConvexConvex(warped, frame)
    whole = abs(cv2.contourArea(warped))
    return float(area / whole) if whole > 0 else 0.0
