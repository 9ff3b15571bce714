"""How well a replaced camera's view matches the old one, and the camera's zones, lines and masks moved to follow it.
Pure: the measurement itself (features matched between the two pictures) is ``vigil.analysis.view_match``.

A match is a similarity transform (shift, rotation, zoom) taking a point of the old view to the same point of the
scene in the new view, in normalised picture coordinates (0-1 from the top left), with how much of the old view the
new one still shows (``overlap``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Point = tuple[float, float]
Matrix = tuple[tuple[float, float, float], tuple[float, float, float]]  # 2x3, normalised coordinates
GOOD = {"shift": 0.02, "rotation_deg": 1.0, "zoom": 0.03, "overlap": 0.95}  # within these: the view is restored


@dataclass(frozen=True, slots=True)
class ViewMatch:
    matched: bool  # enough features agreed on one transform
    inliers: int = 0
    shift_x: float = 0.0  # where the old view's centre is now, as a share of the width (+: to the right)
    shift_y: float = 0.0
    rotation_deg: float = 0.0  # + : the scene turned clockwise in the picture
    zoom: float = 1.0  # > 1: the scene looks bigger (zoomed in)
    overlap: float = 0.0  # share of the old view still in the picture
    matrix: Matrix = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    reason: str = ""  # why it did not match

    @property
    def verdict(self) -> str:
        """``restored`` (the view is as it was), ``adjust`` (aim it again, or accept the moved shapes) or
        ``no_match`` (not the same scene, or the picture says too little)."""
        if not self.matched:
            return "no_match"
        ok = (
            math.hypot(self.shift_x, self.shift_y) <= GOOD["shift"]
            and abs(self.rotation_deg) <= GOOD["rotation_deg"]
            and abs(self.zoom - 1) <= GOOD["zoom"]
            and self.overlap >= GOOD["overlap"]
        )
        return "restored" if ok else "adjust"


def moved(points: Sequence[Sequence[float]], matrix: Matrix) -> list[list[float]]:
    """Points of the old view where the transform puts them in the new one, kept inside the picture."""
    (a, b, c), (d, e, f) = matrix
    out = []
    for x, y in points:
        nx, ny = a * x + b * y + c, d * x + e * y + f
        out.append([round(min(1.0, max(0.0, nx)), 4), round(min(1.0, max(0.0, ny)), 4)])
    return out


def moved_shapes(camera: dict[str, Any], matrix: Matrix) -> dict[str, Any]:
    """A camera's zones, lines, motion mask and privacy masks (as ``cameras[]`` in vigil.yaml) moved by ``matrix``."""
    analysis = dict(camera.get("analysis") or {})
    out: dict[str, Any] = {}
    if analysis.get("zones"):
        out["zones"] = [{**z, "points": moved(z["points"], matrix)} for z in analysis["zones"]]
    if analysis.get("lines"):
        out["lines"] = [{**ln, "points": moved(ln["points"], matrix)} for ln in analysis["lines"]]
    if analysis.get("motion_mask"):
        out["motion_mask"] = [moved(p, matrix) for p in analysis["motion_mask"]]
    if camera.get("privacy_masks"):
        out["privacy_masks"] = [moved(p, matrix) for p in camera["privacy_masks"]]
    return out
