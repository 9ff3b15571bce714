"""Zones and lines on the picture, in normalised coordinates (0..1 of the frame's width and height), so that
they survive a change of stream resolution. Pure functions; validation names what is wrong in plain words."""

from __future__ import annotations

import math
from collections.abc import Sequence

from vigil.domain.errors import ConfigError

Point = tuple[float, float]


def check_polygon(name: str, points: Sequence[Point]) -> tuple[Point, ...]:
    """A zone or mask: at least 3 distinct corners inside the frame, edges that do not cross, some area."""
    pts = tuple((float(x), float(y)) for x, y in points)
    if len(pts) < 3:
        raise ConfigError(f"{name}: a polygon needs at least 3 points, it has {len(pts)}")
    _inside_frame(name, pts)
    if len(set(pts)) != len(pts):
        raise ConfigError(f"{name}: a corner is repeated")
    n = len(pts)
    for i in range(n):
        for j in range(i + 1, n):
            if j in (i + 1, (i - 1) % n) or (i == 0 and j == n - 1):
                continue  # neighbouring edges share a corner
            if segments_cross(pts[i], pts[(i + 1) % n], pts[j], pts[(j + 1) % n]):
                raise ConfigError(f"{name}: the polygon crosses itself (edge {i + 1} crosses edge {j + 1})")
    if abs(area(pts)) < 1e-6:
        raise ConfigError(f"{name}: the polygon has no area (its points are in a line)")
    return pts


def check_line(name: str, a: Point, b: Point) -> tuple[Point, Point]:
    pts = ((float(a[0]), float(a[1])), (float(b[0]), float(b[1])))
    _inside_frame(name, pts)
    if pts[0] == pts[1]:
        raise ConfigError(f"{name}: the line's two ends are the same point")
    return pts


def _inside_frame(name: str, pts: Sequence[Point]) -> None:
    for k, (x, y) in enumerate(pts, start=1):
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ConfigError(f"{name}: point {k} ({x:g}, {y:g}) is outside the frame (coordinates run 0 to 1)")


def area(pts: Sequence[Point]) -> float:
    """Signed area (shoelace)."""
    return 0.5 * sum(
        pts[i][0] * pts[(i + 1) % len(pts)][1] - pts[(i + 1) % len(pts)][0] * pts[i][1] for i in range(len(pts))
    )


def contains(polygon: Sequence[Point], p: Point) -> bool:
    """Point in polygon (even-odd rule); points on an edge count as inside."""
    x, y = p
    inside = False
    n = len(polygon)
    for i in range(n):
        (x1, y1), (x2, y2) = polygon[i], polygon[(i + 1) % n]
        if _on_segment((x1, y1), (x2, y2), p):
            return True
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def side(a: Point, b: Point, p: Point) -> float:
    """Positive when ``p`` is on the left of a->b (image coordinates: y grows downwards, so 'left' is as
    seen looking from a towards b on the screen), negative on the right, 0 on the line."""
    return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])


def segments_cross(a: Point, b: Point, c: Point, d: Point) -> bool:
    """Do segments a-b and c-d intersect (touching counts)?"""
    d1, d2, d3, d4 = side(c, d, a), side(c, d, b), side(a, b, c), side(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return any(
        (v == 0 and _on_segment(s, e, q)) for v, s, e, q in ((d1, c, d, a), (d2, c, d, b), (d3, a, b, c), (d4, a, b, d))
    )


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    if abs(side(a, b, p)) > 1e-12:
        return False
    return (
        min(a[0], b[0]) - 1e-12 <= p[0] <= max(a[0], b[0]) + 1e-12
        and min(a[1], b[1]) - 1e-12 <= p[1] <= max(a[1], b[1]) + 1e-12
    )


def distance_to_segment(a: Point, b: Point, p: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
    return math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy))


def distance_to_edges(polygon: Sequence[Point], p: Point) -> float:
    """How far ``p`` is from the polygon's outline (inside or out)."""
    n = len(polygon)
    return min(distance_to_segment(polygon[i], polygon[(i + 1) % n], p) for i in range(n))


def signed_distance(a: Point, b: Point, p: Point) -> float:
    """Distance of ``p`` from the infinite line a-b, positive on its left (see :func:`side`)."""
    return side(a, b, p) / max(math.hypot(b[0] - a[0], b[1] - a[1]), 1e-12)
