"""Writes what the analysis workers saw into the catalog as events: one row per event, opened when it begins
and closed (with its end and final description) when it ends. An event's ``zone``, ``labels`` and ``score``
(when its data carries them) become the catalog's fields of those names; the data keeps them too. An end may
raise the best score.

Gaps in analysis are events too (type ``analysis``): ``analysis:down`` for a camera whose analysis worker died
(closed by the restarted worker when it has the stream again), ``detector:down`` for the whole node while the
detector process is dead (closed when it reports :class:`~vigil.domain.reports.DetectorUp`), and a recorded
``detection:off`` when the detector's model would not load at start-up."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from vigil.domain.describe import duration_words
from vigil.domain.errors import InvalidRequest
from vigil.domain.records import event_labels
from vigil.domain.reports import AnalysisEvent, AnalysisEventEnd, DetectorUp, Message
from vigil.domain.rules import RuleKind
from vigil.ports import Catalog

NODE = ""  # the camera id of node-wide events (the detector)
# Event types the analysis writes (rule kinds included).
ANALYSIS_TYPES = ("motion", "fault", "object", "analysis", *(kind.value for kind in RuleKind))

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
    def __init__(self, catalog: Catalog, tz: tzinfo = UTC) -> None:
        self._catalog = catalog
        self._tz = tz
        self._open: dict[tuple[str, str], int] = {}  # (camera, key) -> event id
        self._gaps: dict[tuple[str, str], tuple[int, str]] = {}  # (camera, key) -> (since, description)

    def handle(self, msg: Message) -> None:
        if isinstance(msg, AnalysisEvent):
            self._began(msg)
        elif isinstance(msg, AnalysisEventEnd):
            self._ended(msg)
        elif isinstance(msg, DetectorUp):
            self._ended(AnalysisEventEnd(NODE, "detector:down", msg.at_us))

    def close_leftovers(self, at_us: int) -> int:
        """At start-up: end the analysis events a previous run left open (it stopped without ending them, e.g.
        killed); return how many. Their end is now, said in their description."""
        left = [e for e in self._catalog.open_events(ANALYSIS_TYPES) if "key" in e.data]
        for event in left:
            text = f"{event.description} (still open when Vigil stopped; closed at its restart at {self._clock(at_us)})"
            self._catalog.end_event(event.id, max(at_us, event.start_us), text)
        return len(left)

    def analysis_down(self, camera_id: str, stream: str, at_us: int, code: int | None) -> None:
        """The camera's analysis worker died: a gap in its analysis, until a worker has its stream again."""
        text = f"Analysis stopped at {self._clock(at_us)}: its worker process died (exit code {code})"
        self._gap(camera_id, stream, "analysis:down", at_us, text)

    def detector_down(self, at_us: int, code: int | None) -> None:
        """The detector died: a gap in object detection on every camera (motion and faults go on)."""
        text = f"Object detection stopped at {self._clock(at_us)}: the detector process died (exit code {code})"
        self._gap(NODE, None, "detector:down", at_us, text)

    def detection_off(self, at_us: int, why: str) -> None:
        """The detector could not start at all (its model would not load): recorded once, at start-up."""
        text = f"Object detection is off: {why}. Recording, motion and camera faults go on."
        self._catalog.add_event("analysis", at_us, text, data={"key": "detection:off", "problem": why})

    def _gap(self, camera_id: str, stream: str | None, key: str, at_us: int, text: str) -> None:
        if (camera_id, key) in self._open:
            return  # already down (a worker that dies again before it had its stream)
        event_id = self._catalog.add_event(
            "analysis", at_us, text, camera_id=camera_id or None, stream=stream, data={"key": key}
        )
        self._open[(camera_id, key)] = event_id
        self._gaps[(camera_id, key)] = (at_us, text)

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
        description = msg.description or None
        gap = self._gaps.pop((msg.camera_id, msg.key), None)
        if gap is not None:
            since, text = gap
            description = (
                f"{text}; back at {self._clock(msg.end_us)} after {duration_words((msg.end_us - since) / 1e6)}"
            )
        self._catalog.end_event(event_id, msg.end_us, description, score=msg.score)

    def _clock(self, at_us: int) -> str:
        return datetime.fromtimestamp(at_us / 1e6, tz=self._tz).strftime("%H:%M:%S")

    def close_all(self, camera_id: str, end_us: int) -> None:
        """The camera's analysis stopped (its worker died, or the stream went away): end what it had open."""
        for key in [k for k in self._open if k[0] == camera_id and k not in self._gaps]:
            self._catalog.end_event(self._open.pop(key), end_us)
