"""Picture treatments, composed from the adapters that do them (part of the composition root, like runtime.py):
privacy masks filled in by :mod:`vigil.media.masking`, faces, plates and people found and hidden by
:mod:`vigil.analysis.redaction`, clips re-encoded by :mod:`vigil.media.reencode` (ADR 0012).

The models load on first use (a node that never redacts never loads them) and are shared: an ONNX Runtime session
may be run from several threads. Each clip gets its own :class:`~vigil.analysis.redaction.FrameRedactor` (it carries
boxes from one picture to the next).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from vigil.analysis.detector import DetectorSettings, OnnxDetector, load_detector
from vigil.analysis.faces import FaceFinder
from vigil.analysis.redaction import VEHICLES, FrameRedactor
from vigil.analysis.text_regions import TextFinder
from vigil.domain.errors import StorageError
from vigil.domain.privacy import PictureTreatment
from vigil.media.clip import ClipPart, write_clip
from vigil.media.masking import MaskPainter, mask_jpeg
from vigil.media.reencode import reencode_clip
from vigil.ports import ClipMade

JPEG_QUALITY = 85


class Treatments:
    """Treats pictures, frames and clips as a :class:`PictureTreatment` says."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._lock = threading.Lock()
        self._faces: FaceFinder | None = None
        self._text: TextFinder | None = None
        self._objects: OnnxDetector | None = None

    # --- models, loaded once ---------------------------------------------------------------------------
    def models(self, kinds: frozenset[str]) -> tuple[FaceFinder | None, TextFinder | None, OnnxDetector | None]:
        """The detectors a redaction of ``kinds`` needs (ConfigError when a model is not installed)."""
        with self._lock:
            if "faces" in kinds and self._faces is None:
                self._faces = FaceFinder(threads=self.threads)
            if "plates" in kinds and self._text is None:
                self._text = TextFinder(threads=self.threads)
            if kinds and self._objects is None:
                labels = ("person", *sorted(VEHICLES))
                self._objects = load_detector(DetectorSettings(labels=labels, threads=self.threads))
        return (
            self._faces if "faces" in kinds else None,
            self._text if "plates" in kinds else None,
            self._objects,
        )

    def redactor(self, treatment: PictureTreatment) -> FrameRedactor | None:
        if not treatment.redact:
            return None
        faces, text, objects = self.models(treatment.redact)
        return FrameRedactor(treatment.redact, faces, text, objects, style=treatment.style)

    # --- treatments ------------------------------------------------------------------------------------
    def frame_treatment(self, treatment: PictureTreatment) -> tuple[Callable[[Any], Any], FrameRedactor | None]:
        """What to do to each decoded picture of one clip, and its redactor (for its counts)."""
        painter = MaskPainter(treatment.masks)
        redactor = self.redactor(treatment)
        if redactor is None:
            return painter.frame, None

        def treat(frame: Any) -> Any:
            bgr = np.ascontiguousarray(frame.to_ndarray(format="bgr24"))
            painter.bgr(redactor.redact(bgr))
            out = av.VideoFrame.from_ndarray(bgr, format="bgr24")
            out.pts = frame.pts
            return out

        return treat, redactor

    def jpeg(self, data: bytes, treatment: PictureTreatment) -> bytes:
        """A JPEG treated (the same bytes when the treatment is empty)."""
        if treatment.empty:
            return data
        if not treatment.redact:
            return mask_jpeg(data, treatment.masks)
        decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if decoded is None:
            raise StorageError("the picture could not be read as a JPEG")
        bgr = np.ascontiguousarray(decoded, np.uint8)
        redactor = self.redactor(treatment)
        assert redactor is not None
        MaskPainter(treatment.masks).bgr(redactor.redact(bgr))
        ok, encoded = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise StorageError("the treated picture could not be encoded as JPEG")
        return bytes(encoded.tobytes())

    def clip(
        self,
        parts: Sequence[tuple[Path, int, int]],
        start_us: int,
        end_us: int,
        out: Path,
        treatment: PictureTreatment | None = None,
    ) -> ClipMade:
        """The ``ClipWriter`` port: copied when the treatment is empty, else re-encoded with it."""
        clip_parts = [ClipPart(path, start, end) for path, start, end in parts]
        if treatment is None or treatment.empty:
            made = write_clip(clip_parts, start_us, end_us, out)
            return ClipMade(made.start_us, made.end_us, made.frame_count, made.size_bytes)
        treat, redactor = self.frame_treatment(treatment)
        made = reencode_clip(clip_parts, start_us, end_us, out, treat)
        hidden = redactor.counts.as_dict() if redactor is not None else None
        return ClipMade(made.start_us, made.end_us, made.frame_count, made.size_bytes, hidden)
