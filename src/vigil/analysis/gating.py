"""Motion gates detection: which part of a picture, if any, is worth the detector's time.

The areas to look at are the motion regions and the boxes of the objects being followed (a person standing
still makes no motion but must not be lost). They are merged into one crop, padded, grown to at least half the
model's input on each side (a crop is never enlarged more than twice, where small-object false alarms start),
shaped towards the model's aspect, and kept inside the picture. A crop that covers most of the picture becomes
the whole picture. No areas, no detection.
"""

from __future__ import annotations

from collections.abc import Sequence

Area = tuple[float, float, float, float]  # x1, y1, x2, y2, normalised (0-1)
Crop = tuple[int, int, int, int]  # x1, y1, x2, y2 in pixels


def detection_crop(
    areas: Sequence[Area],
    width: int,
    height: int,
    model_input: tuple[int, int],
    *,
    pad: float = 0.15,
    whole_above: float = 0.5,
) -> Crop | None:
    """The part of a ``width`` x ``height`` picture to detect in, or None when there is nothing to look at."""
    if not areas:
        return None
    x1 = min(a[0] for a in areas) * width
    y1 = min(a[1] for a in areas) * height
    x2 = max(a[2] for a in areas) * width
    y2 = max(a[3] for a in areas) * height
    pad_x, pad_y = pad * (x2 - x1) + 8, pad * (y2 - y1) + 8
    x1, y1, x2, y2 = x1 - pad_x, y1 - pad_y, x2 + pad_x, y2 + pad_y
    in_w, in_h = model_input
    want_w = max(x2 - x1, in_w / 2, (y2 - y1) * in_w / in_h)
    want_h = max(y2 - y1, in_h / 2, (x2 - x1) * in_h / in_w)
    x1, x2 = _span((x1 + x2) / 2, want_w, width)
    y1, y2 = _span((y1 + y2) / 2, want_h, height)
    if (x2 - x1) * (y2 - y1) >= whole_above * width * height:
        return (0, 0, width, height)
    return (x1, y1, x2, y2)


def _span(centre: float, length: float, limit: int) -> tuple[int, int]:
    """``length`` around ``centre``, slid (not cut) to stay within 0..limit when it fits."""
    length = min(length, float(limit))
    start = min(max(centre - length / 2, 0.0), limit - length)
    return round(start), round(start + length)
