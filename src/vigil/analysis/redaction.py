"""Redaction of pictures before footage is disseminated: faces, licence plates (text on vehicles) and, if asked,
whole people blurred or pixelated (ADR 0012). Compute only: pictures in, pictures out.

What is hidden in one picture:

- **faces**: CenterFace's boxes (:mod:`vigil.analysis.faces`), grown by a quarter; and, because CenterFace misses
  faces under about 10 pixels, the head of every person the object detector finds (the top fifth of the box);
- **plates**: the text regions PP-OCRv4 finds inside every car, bus, truck or motorcycle
  (:mod:`vigil.analysis.text_regions`);
- **people**: every person's whole box.

A box found in one picture is also hidden in the next (:attr:`FrameRedactor.carry`), so a detection missed in one
frame of a walk does not flash a face. The detectors are injected, so a caller picks their sizes and threads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from vigil.analysis.faces import Face
from vigil.analysis.tracking import Detection

Box = tuple[float, float, float, float]
Image = npt.NDArray[np.uint8]
VEHICLES = frozenset({"car", "bus", "truck", "motorcycle"})
FACE_GROWTH = 0.25
HEAD_SHARE = 0.2


class FindsFaces(Protocol):
    def find(self, bgr: Image, upscale: float | None = None) -> list[Face]: ...


class FindsText(Protocol):
    def find_in(self, bgr: Image, regions: Sequence[Box], margin: float = 0.05) -> list[Box]: ...


class FindsObjects(Protocol):
    def detect(self, bgr: Image, min_score: float | None = None) -> list[Detection]: ...


@dataclass
class RedactionCounts:
    """What was hidden, over every picture treated."""

    pictures: int = 0
    faces: int = 0
    heads: int = 0
    plates: int = 0
    people: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "pictures": self.pictures,
            "faces": self.faces,
            "heads": self.heads,
            "plates": self.plates,
            "people": self.people,
        }


@dataclass
class FrameRedactor:
    kinds: frozenset[str]
    faces: FindsFaces | None = None
    text: FindsText | None = None
    objects: FindsObjects | None = None
    style: str = "blur"
    carry: bool = True
    counts: RedactionCounts = field(default_factory=RedactionCounts)
    _previous: list[Box] = field(default_factory=list)

    def regions(self, bgr: Image) -> list[Box]:
        """The boxes to hide in this picture (before the ones carried from the previous picture)."""
        found: list[Box] = []
        objects = self.objects.detect(bgr) if self.objects is not None else []
        people = [d.box for d in objects if d.label == "person"]
        if "faces" in self.kinds and self.faces is not None:
            faces = [grow(f.box, FACE_GROWTH) for f in self.faces.find(bgr)]
            heads = [head(box) for box in people]
            self.counts.faces += len(faces)
            self.counts.heads += len(heads)
            found += faces + heads
        if "plates" in self.kinds and self.text is not None:
            vehicles = [d.box for d in objects if d.label in VEHICLES]
            plates = self.text.find_in(bgr, vehicles) if vehicles else []
            self.counts.plates += len(plates)
            found += plates
        if "people" in self.kinds:
            self.counts.people += len(people)
            found += [grow(box, 0.05) for box in people]
        return found

    def redact(self, bgr: Image) -> Image:
        """Hide what is found in ``bgr`` (in place) and return it."""
        found = self.regions(bgr)
        self.counts.pictures += 1
        hide(bgr, [*found, *self._previous] if self.carry else found, self.style)
        self._previous = found
        return bgr


def grow(box: Box, share: float) -> Box:
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * share / 2, (y2 - y1) * share / 2
    return x1 - dx, y1 - dy, x2 + dx, y2 + dy


def head(person: Box) -> Box:
    """Where a person's head is: the top fifth of the box, as wide as 40% of its height (arms and bags widen a box,
    not a head), around the box's middle, grown by a tenth."""
    x1, y1, x2, y2 = person
    height = y2 - y1
    half = min(x2 - x1, 0.4 * height) / 2
    middle = (x1 + x2) / 2
    return grow((middle - half, y1, middle + half, y1 + height * HEAD_SHARE), 0.1)


def hide(bgr: Image, boxes: Iterable[Box], style: str) -> None:
    """Blur (a box filter as wide as half the region, applied twice) or pixelate (blocks of an eighth of the
    region, at least 8 pixels) every box, clipped to the picture."""
    height, width = bgr.shape[:2]
    for x1, y1, x2, y2 in boxes:
        left, top = max(0, int(x1)), max(0, int(y1))
        right, bottom = min(width, int(np.ceil(x2))), min(height, int(np.ceil(y2)))
        if right - left < 2 or bottom - top < 2:
            continue
        region = bgr[top:bottom, left:right]
        w, h = right - left, bottom - top
        if style == "pixelate":
            block = max(8, min(w, h) // 8)
            small = cv2.resize(region, (max(1, w // block), max(1, h // block)), interpolation=cv2.INTER_AREA)
            region[:] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
        else:
            k = max(3, (min(w, h) // 2) | 1)
            region[:] = cv2.blur(cv2.blur(region, (k, k)), (k, k))
