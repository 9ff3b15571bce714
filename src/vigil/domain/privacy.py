"""Privacy masks and redaction: what is hidden from whom, and how a picture is treated before it leaves. Pure.

A camera's privacy masks are polygons in fractions of the picture (like zones, so they survive a change of stream
resolution). They are burned into every picture a person without ``view_unmasked`` on that camera receives: the
pixels are filled in on the server, never covered by the browser. A redaction hides what a detector finds (faces,
licence plates, whole people) in footage about to be disseminated.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from vigil.domain.access import Action, Principal
from vigil.domain.errors import InvalidRequest
from vigil.domain.geometry import Point

Polygon = tuple[Point, ...]
Masks = tuple[Polygon, ...]
REDACT_KINDS = ("faces", "plates", "people")
REDACT_STYLES = ("blur", "pixelate")
NO_MASKS: Masks = ()


def as_masks(polygons: Iterable[Sequence[Sequence[float]]]) -> Masks:
    """Polygons (lists of [x, y] fractions, as the configuration holds them) as hashable tuples."""
    return tuple(tuple((float(p[0]), float(p[1])) for p in polygon) for polygon in polygons)


def mask_version(masks: Masks) -> str:
    """A short digest of the polygons: what was burned into a cached clip, so a changed mask makes a new one."""
    if not masks:
        return ""
    text = json.dumps([[list(p) for p in polygon] for polygon in masks], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def masks_for(who: Principal, camera_id: str, site: str, masks: Masks) -> Masks:
    """The masks to burn into what ``who`` receives of this camera: none when it has none or they may view it
    unmasked."""
    if not masks or who.may_on(Action.VIEW_UNMASKED, camera_id, site):
        return NO_MASKS
    return masks


def pixel_polygons(masks: Masks, width: int, height: int) -> list[list[tuple[int, int]]]:
    """The polygons in pixels of a ``width`` x ``height`` picture (corners on the last pixel when at 1.0)."""
    return [[(round(x * (width - 1)), round(y * (height - 1))) for x, y in polygon] for polygon in masks]


def parse_redaction(kinds: Iterable[str]) -> frozenset[str]:
    """``faces``, ``plates``, ``people`` (or a comma-separated string of them); InvalidRequest naming an unknown one."""
    found: set[str] = set()
    for item in kinds:
        for word in (w.strip().lower() for w in item.split(",")):
            if not word:
                continue
            if word not in REDACT_KINDS:
                raise InvalidRequest(f"redact: unknown kind {word!r} (kinds: {', '.join(REDACT_KINDS)})")
            found.add(word)
    return frozenset(found)


def check_style(style: str) -> str:
    if style not in REDACT_STYLES:
        raise InvalidRequest(f"redact style: {style!r} is not one of {', '.join(REDACT_STYLES)}")
    return style


@dataclass(frozen=True, slots=True)
class PictureTreatment:
    """What is done to every picture of a clip before it is written: masks filled in, then what the detectors find
    hidden. Empty: the clip is copied, never re-encoded."""

    masks: Masks = NO_MASKS
    redact: frozenset[str] = frozenset()
    style: str = "blur"

    @property
    def empty(self) -> bool:
        return not self.masks and not self.redact

    def describe(self) -> dict[str, Any]:
        """For a manifest: what was applied."""
        return {
            "masks_applied": bool(self.masks),
            "mask_version": mask_version(self.masks),
            "masks": [[list(p) for p in polygon] for polygon in self.masks],
            "redacted": sorted(self.redact),
            "style": self.style if self.redact else None,
        }
