"""The pictures the daily quality check measures: keyframes of a camera's main stream recorded in one hour, spread
over it (one per segment), measured by ``vigil.analysis.quality``. Composed from the catalog, media (the keyframe)
and analysis, beside the runtime like ``ticket_pictures``; it is the :class:`vigil.ports.PictureQuality`."""

from __future__ import annotations

import logging
from typing import Any

from vigil.analysis.quality import measure_quality
from vigil.domain.degradation import QualityMeasures
from vigil.domain.errors import SourceError, StorageError
from vigil.media.still import keyframe_bgr
from vigil.ports import Catalog, SegmentStore

log = logging.getLogger(__name__)


class RecordedQuality:
    def __init__(self, catalog: Catalog, store: SegmentStore) -> None:
        self.catalog, self.store = catalog, store

    def measure(self, camera_id: str, start_us: int, end_us: int, frames: int) -> tuple[QualityMeasures, int] | None:
        """The picture's quality on up to ``frames`` keyframes of the segments that began in [start, end), and how
        many were measured; None when nothing was recorded then (or nothing could be decoded)."""
        segments = [s for s in self.catalog.segments(camera_id, "main", start_us, end_us) if s.start_us >= start_us]
        if not segments:
            return None
        step = len(segments) / min(frames, len(segments))
        chosen = [segments[int(i * step)] for i in range(min(frames, len(segments)))]
        pictures: list[Any] = []
        for segment in chosen:
            try:
                pictures.append(keyframe_bgr(f"file://{self.store.local(segment)}", f"segment {segment.path}"))
            except (SourceError, StorageError):
                log.warning("camera=%s: no picture in %s for the quality check", camera_id, segment.path)
        if not pictures:
            return None
        return measure_quality(pictures), len(pictures)
