"""One camera's objects: detections become tracks, tracks feed the rules, and both become events.

:class:`ObjectWatch` is given each detector reply (the picture that was looked at, the crop, what was found) and
returns messages for the main process: an ``object`` event per confirmed track (opened when it is confirmed,
closed when it ends) when ``report_objects``, and an event per rule hit, typed by the rule's kind. A crowd is one
open event from gathering to dispersal. Every event that begins carries its snapshot picture (a copy of the
detected frame: the shared buffer is reused) with the boxes and the zone or line in ``data`` for drawing.

It also says which areas the detector should look at next (:meth:`areas`): the boxes of moving tracks every
frame, those of stationary ones every ``recheck_s`` (a parked car is checked, not re-detected five times a
second).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from vigil.analysis.gating import Area
from vigil.analysis.tracking import Detection, Track, Tracker
from vigil.domain.describe import duration_words, one_of
from vigil.domain.reports import AnalysisEvent, AnalysisEventEnd, Message
from vigil.domain.rules import Rule, RuleEngine, RuleHit, RuleKind, Seen
from vigil.ports import DetectionReply, Pictured


@dataclass
class _Followed:
    label: str
    first_us: int
    last_us: int
    best: float


@dataclass
class ObjectWatch:
    camera_id: str
    stream: str
    fps: float
    rules: tuple[Rule, ...] = ()
    report_objects: bool = True
    tz: tzinfo = UTC
    recheck_s: float = 2.0
    _tracker: Tracker | None = None
    _engine: RuleEngine | None = None
    _size: tuple[int, int] = (0, 0)  # the detected pictures' height, width
    _followed: dict[int, _Followed] = field(default_factory=dict)
    _checked_us: int = 0
    seen: list[Track] = field(default_factory=list)  # the confirmed tracks of the last reply (benchmarks score them)

    def __post_init__(self) -> None:
        self._tracker = Tracker(self.fps)
        self._engine = RuleEngine(self.rules)

    def areas(self, at_us: int) -> list[Area]:
        """Where the followed objects are (normalised), for the next detection."""
        assert self._tracker is not None
        height, width = self._size
        if not width:
            return []
        recheck = at_us - self._checked_us >= self.recheck_s * 1e6
        boxes = [t.box for t in self._tracker.tracks if recheck or not t.stationary]
        if recheck and boxes:
            self._checked_us = at_us
        return [(x1 / width, y1 / height, x2 / width, y2 / height) for x1, y1, x2, y2 in boxes]

    def reply(self, reply: DetectionReply) -> list[Message | Pictured]:
        assert self._tracker is not None and self._engine is not None
        height, width = reply.picture.shape[:2]
        if (height, width) != self._size:
            out = self.stop(reply.at_us) if self._size != (0, 0) else []  # a new picture size: start afresh
            self._size = (height, width)
        else:
            out = []
        detections = [Detection(label, score, (x1, y1, x2, y2)) for label, score, x1, y1, x2, y2 in reply.found]
        seen = self.seen = self._tracker.update(detections, reply.at_us, reply.picture, looked=reply.crop)
        ended = list(self._tracker.ended)
        picture: list[Any] = []  # the copy, made once and only if an event needs it

        def snapshot() -> Any:
            if not picture:
                picture.append(reply.picture.copy())
            return picture[0]

        for track in seen:
            out += self._followed_track(track, reply.at_us, snapshot)
        for track_id in ended:
            out += self._ended_track(track_id)
        local = datetime.fromtimestamp(reply.at_us / 1e6, tz=self.tz)
        points = [
            Seen(
                t.track_id,
                t.label,
                (t.bottom_centre[0] / width, t.bottom_centre[1] / height),
                t.stationary,
                t.best_score,
            )
            for t in seen
        ]
        for hit in self._engine.step(points, ended, reply.at_us, local):
            out.append(self._hit_message(hit, seen, snapshot))
        return out

    def stop(self, at_us: int) -> list[Message | Pictured]:
        """Detection stopped (the stream ended, the picture changed size): end every object and open crowd."""
        out: list[Message | Pictured] = [self._object_end(tid, f) for tid, f in self._followed.items()]
        out += [
            AnalysisEventEnd(self.camera_id, f"rule:{r.name}", at_us) for r in self.rules if r.kind is RuleKind.CROWD
        ]
        self._followed.clear()
        self._tracker = Tracker(self.fps)
        self._engine = RuleEngine(self.rules)
        self._size = (0, 0)
        return out

    # --- objects ---------------------------------------------------------------------------------------
    def _followed_track(self, track: Track, at_us: int, snapshot: Any) -> list[Message | Pictured]:
        known = self._followed.get(track.track_id)
        if known is not None:
            known.last_us, known.best = at_us, max(known.best, track.best_score)
            return []
        self._followed[track.track_id] = _Followed(track.label, track.first_us, at_us, track.best_score)
        if not self.report_objects:
            return []
        text = f"{_capital(one_of(track.label))} seen at {self._clock(track.first_us)}"
        data = {
            "labels": [track.label],
            "score": round(track.best_score, 3),
            "track": track.track_id,
            "boxes": [self._box(track)],
        }
        msg = AnalysisEvent(
            self.camera_id, self.stream, f"object:{track.track_id}", "object", track.first_us, None, text, data
        )
        return [Pictured(msg, snapshot())]

    def _ended_track(self, track_id: int) -> list[Message | Pictured]:
        followed = self._followed.pop(track_id, None)
        return [] if followed is None else [self._object_end(track_id, followed)]

    def _object_end(self, track_id: int, f: _Followed) -> Message:
        took = duration_words(max(0, f.last_us - f.first_us) / 1e6)
        text = f"{_capital(one_of(f.label))} seen from {self._clock(f.first_us)} for {took} (best score {f.best:.2f})"
        return AnalysisEventEnd(self.camera_id, f"object:{track_id}", max(f.last_us, 1), text, score=f.best)

    # --- rules -----------------------------------------------------------------------------------------
    def _hit_message(self, hit: RuleHit, seen: list[Track], snapshot: Any) -> Message | Pictured:
        rule = next(r for r in self.rules if r.name == hit.rule)
        key = f"rule:{hit.rule}"
        if hit.kind is RuleKind.CROWD and hit.end_us is not None:
            return AnalysisEventEnd(self.camera_id, key, hit.end_us, hit.description)
        involved = [t for t in seen if t.track_id in hit.track_ids]
        data: dict[str, Any] = {
            "rule": hit.rule,
            "zone": hit.place,
            "labels": sorted(set(hit.labels)),
            "tracks": list(hit.track_ids),
            "boxes": [self._box(t) for t in involved],
        }
        if involved:
            data["score"] = round(max(t.best_score for t in involved), 3)
        if rule.polygon:
            data["outline"] = [list(p) for p in rule.polygon]
        elif rule.line is not None:
            data["outline"] = [list(p) for p in rule.line]
        if hit.end_us is not None:
            key = f"{key}:{hit.start_us}:{'-'.join(map(str, hit.track_ids))}"
        msg = AnalysisEvent(
            self.camera_id, self.stream, key, hit.kind.value, hit.start_us, hit.end_us, hit.description, data
        )
        return Pictured(msg, snapshot())

    def _box(self, track: Track) -> list[Any]:
        height, width = self._size
        x1, y1, x2, y2 = track.box
        return [track.label, round(track.best_score, 3), x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height]

    def _clock(self, at_us: int) -> str:
        return datetime.fromtimestamp(at_us / 1e6, tz=self.tz).strftime("%H:%M:%S")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
