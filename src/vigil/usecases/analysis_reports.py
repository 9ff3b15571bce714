"""Writes what the analysis workers saw into the catalog as events: one row per event, opened when it begins
and closed (with its end and final description) when it ends. An event's ``zone``, ``labels`` and ``score``
(when its data carries them) become the catalog's fields of those names; the data keeps them too."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from vigil.domain.errors import InvalidRequest
from vigil.domain.records import event_labels
from vigil.domain.reports import AnalysisEvent, AnalysisEventEnd, Message
from vigil.ports import Catalog

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EventFacts:
    """What an event's data says about where and what: its zone or line, object labels and best score."""

    zone: str | None = None
    labels: tuple[str, ...] = ()
    score: float | None = None


def event_facts(camera_id: str, data: dict[str, Any]) -> EventFacts:
    """``zone`` (a name), ``labels`` (a list of names) and ``score`` (a number) from an event's data; a value of
    the wrong kind is left out with a warning rather than losing the event."""
    zone, labels, score = data.get("zone"), data.get("labels", ()), data.get("score")
    if zone is not None and not (isinstance(zone, str) and zone):
        log.warning("camera=%s: event zone %r is not a name; left out", camera_id, zone)
        zone = None
    try:
        if not isinstance(labels, list | tuple) or not all(isinstance(x, str) for x in labels):
            raise InvalidRequest(f"labels: {labels!r} is not a list of names")
        kept = event_labels(labels)
    except InvalidRequest as exc:
        log.warning("camera=%s: event %s; labels left out", camera_id, exc.message)
        kept = ()
    bad_score = isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score)
    if score is not None and bad_score:
        log.warning("camera=%s: event score %r is not a number; left out", camera_id, score)
        score = None
    return EventFacts(zone, kept, None if score is None else float(score))


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
        facts = event_facts(msg.camera_id, msg.data)
        event_id = self._catalog.add_event(
            msg.type,
            msg.start_us,
            msg.description,
            camera_id=msg.camera_id,
            stream=msg.stream,
            end_us=msg.end_us,
            data=data,
            zone=facts.zone,
            labels=facts.labels,
            score=facts.score,
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
