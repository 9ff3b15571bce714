"""Writes what the analysis workers saw into the catalog as events: one row per event, opened when it begins
and closed (with its end and final description) when it ends."""

from __future__ import annotations

import logging

from vigil.domain.reports import AnalysisEvent, AnalysisEventEnd, Message
from vigil.ports import Catalog

log = logging.getLogger(__name__)


class AnalysisReports:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._open: dict[tuple[str, str], int] = {}  # (camera, key) -> event id

    def handle(self, msg: Message) -> None:
        if isinstance(msg, AnalysisEvent):
            self._began(msg)
        elif isinstance(msg, AnalysisEventEnd):
            self._ended(msg)

    def _began(self, msg: AnalysisEvent) -> None:
        key = (msg.camera_id, msg.key)
        if msg.end_us is None and key in self._open:
            log.warning("camera=%s: %s began again before it ended; closing the first", msg.camera_id, msg.key)
            self._catalog.end_event(self._open.pop(key), msg.start_us)
        data = {**msg.data, "key": msg.key}
        event_id = self._catalog.add_event(
            msg.type,
            msg.start_us,
            msg.description,
            camera_id=msg.camera_id,
            stream=msg.stream,
            end_us=msg.end_us,
            data=data,
        )
        if msg.end_us is None:
            self._open[key] = event_id

    def _ended(self, msg: AnalysisEventEnd) -> None:
        event_id = self._open.pop((msg.camera_id, msg.key), None)
        if event_id is None:
            log.debug("camera=%s: end of %s that is not open", msg.camera_id, msg.key)
            return
        self._catalog.end_event(event_id, msg.end_us, msg.description or None)

    def close_all(self, camera_id: str, end_us: int) -> None:
        """The camera's analysis stopped (its worker died, or the stream went away): end what it had open."""
        for key in [k for k in self._open if k[0] == camera_id]:
            self._catalog.end_event(self._open.pop(key), end_us)
