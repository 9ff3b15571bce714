"""Rules on tracks: zone enter/exit, line crossing with direction, loitering, crowding, left behind, removed.

:class:`RuleEngine` is fed, frame by frame, the confirmed tracks seen (``Seen``: id, label, where it stands in
normalised coordinates, whether it is stationary) and the ids of tracks that ended, with the time in UTC
microseconds and the site's local time (for schedules). It returns :class:`RuleHit` for each rule that fired,
each with a one-sentence description built from the facts. Pure: no clock, no I/O.

Where a track *is* is its bottom centre (where a person or vehicle stands). Line directions are named as seen
looking from the line's first point towards its second: ``left_to_right`` is a crossing from its left side to its
right side on the screen.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vigil.domain.describe import duration_words, many_of, one_of
from vigil.domain.geometry import Point, contains, distance_to_edges, distance_to_segment, signed_distance


class RuleKind(enum.StrEnum):
    ZONE_ENTER = "zone_enter"
    ZONE_EXIT = "zone_exit"
    LINE_CROSS = "line_cross"
    LOITER = "loiter"
    CROWD = "crowd"
    LEFT_BEHIND = "left_behind"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Schedule:
    """Armed on ``days`` (0 = Monday) from ``start_min`` to ``end_min`` (minutes of the day, local time); an end
    before the start runs past midnight into the next day."""

    days: frozenset[int] = frozenset(range(7))
    start_min: int = 0
    end_min: int = 24 * 60

    def armed(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        if self.start_min <= self.end_min:
            return local.weekday() in self.days and self.start_min <= minute < self.end_min
        if minute >= self.start_min:
            return local.weekday() in self.days
        return (local.weekday() - 1) % 7 in self.days and minute < self.end_min


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    kind: RuleKind
    labels: frozenset[str] = frozenset({"person"})
    zone: str = ""  # the zone's name (its polygon in ``polygon``)
    polygon: tuple[Point, ...] = ()
    line: tuple[Point, Point] | None = None
    direction: str = "both"  # line crossing: both | left_to_right | right_to_left
    min_s: float = 0.0  # loiter: dwell; crowd: how long the crowd lasts; left behind / removed: standing time
    min_count: int = 2  # crowd
    schedules: tuple[Schedule, ...] = ()  # empty: always armed
    margin: float = 0.02  # a track must be this far (share of the picture) past a line or edge to have moved over it

    def armed(self, local: datetime) -> bool:
        return not self.schedules or any(s.armed(local) for s in self.schedules)

    @property
    def place(self) -> str:
        return self.zone or self.name


@dataclass(frozen=True, slots=True)
class Seen:
    track_id: int
    label: str
    point: Point  # bottom centre, normalised
    stationary: bool = False
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class RuleHit:
    rule: str
    kind: RuleKind
    place: str
    start_us: int
    end_us: int | None  # None while it goes on (a crowd)
    track_ids: tuple[int, ...]
    labels: tuple[str, ...]
    description: str


@dataclass
class _TrackState:
    label: str
    first_us: int
    point: Point
    inside: dict[str, int] = field(default_factory=dict)  # rule name -> since when inside its zone
    sides: dict[str, int] = field(default_factory=dict)  # rule name -> settled side of its line (+1 left, -1 right)
    reported: set[str] = field(default_factory=set)  # rules already fired for this visit / this track
    stationary_since: int | None = None


@dataclass
class _Crowd:
    since_us: int | None = None
    reported: bool = False
    members: tuple[int, ...] = ()


class RuleEngine:
    def __init__(self, rules: Iterable[Rule], *, new_after_s: float = 2.0) -> None:
        self.rules = tuple(rules)
        self._tracks: dict[int, _TrackState] = {}
        self._crowds: dict[str, _Crowd] = {r.name: _Crowd() for r in self.rules if r.kind is RuleKind.CROWD}
        self._started_us: int | None = None
        self._new_after_us = int(new_after_s * 1e6)  # objects there from the start were not left behind

    def step(self, seen: Sequence[Seen], ended: Iterable[int], at_us: int, local: datetime) -> list[RuleHit]:
        if self._started_us is None:
            self._started_us = at_us
        hits: list[RuleHit] = []
        for obs in seen:
            state = self._tracks.get(obs.track_id)
            if state is None:
                state = self._tracks[obs.track_id] = _TrackState(obs.label, at_us, obs.point)
                previous = None
            else:
                previous = state.point
            if obs.stationary and state.stationary_since is None:
                state.stationary_since = at_us
            elif not obs.stationary:
                state.stationary_since = None
            for rule in self.rules:
                if obs.label in rule.labels:
                    hits += self._track_rule(rule, obs, state, previous, at_us, local)
            state.point = obs.point
        for track_id in ended:
            state = self._tracks.pop(track_id, None)
            if state is not None:
                hits += self._ended(track_id, state, at_us, local)
        hits += self._crowd_rules(seen, at_us, local)
        return hits

    # --- per track ----------------------------------------------------------------------------------
    def _track_rule(
        self, rule: Rule, obs: Seen, state: _TrackState, previous: Point | None, at_us: int, local: datetime
    ) -> list[RuleHit]:
        armed = rule.armed(local)
        if rule.kind is RuleKind.LINE_CROSS:
            if rule.line is None or not self._crossed(rule, state, obs.point):
                return []
            way = "right_to_left" if state.sides[rule.name] > 0 else "left_to_right"
            if not armed or rule.direction not in ("both", way):
                return []
            text = f"{one_of(obs.label)} crossed line '{rule.place}' ({way.replace('_', ' ')}) at {_clock(local)}"
            return [self._hit(rule, at_us, at_us, (obs.track_id,), (obs.label,), text)]
        if rule.kind in (RuleKind.LEFT_BEHIND, RuleKind.REMOVED):
            return self._left_behind(rule, obs, state, at_us, local) if armed else []
        if rule.kind is RuleKind.CROWD or not rule.polygon:
            return []
        was_in = rule.name in state.inside
        now_in = contains(rule.polygon, obs.point)
        if was_in != now_in and distance_to_edges(rule.polygon, obs.point) < rule.margin and previous is not None:
            now_in = was_in  # on the edge: not yet moved over it (a detection's jitter is no entry)
        if now_in and not was_in:
            state.inside[rule.name] = at_us
            state.reported.discard(rule.name)
            if rule.kind is RuleKind.ZONE_ENTER and armed:
                text = f"{one_of(obs.label)} entered zone '{rule.place}' at {_clock(local)}"
                return [self._hit(rule, at_us, at_us, (obs.track_id,), (obs.label,), text)]
        elif was_in and not now_in:
            since = state.inside.pop(rule.name)
            if rule.kind is RuleKind.ZONE_EXIT and armed:
                return [self._exit(rule, obs.track_id, obs.label, since, at_us, local)]
        elif now_in and rule.kind is RuleKind.LOITER and armed and rule.name not in state.reported:
            since = state.inside[rule.name]
            if at_us - since >= rule.min_s * 1e6:
                state.reported.add(rule.name)
                text = (
                    f"{one_of(obs.label)} has stayed in zone '{rule.place}' for {duration_words((at_us - since) / 1e6)}"
                    f" (since {_clock(local, at_us - since)})"
                )
                return [self._hit(rule, since, at_us, (obs.track_id,), (obs.label,), text)]
        return []

    @staticmethod
    def _crossed(rule: Rule, state: _TrackState, point: Point) -> bool:
        """Has the track moved from one settled side of the line to the other? A side settles once the track is
        ``margin`` away from the line, beside the segment (not beyond its ends)."""
        assert rule.line is not None
        a, b = rule.line
        distance = signed_distance(a, b, point)
        if abs(distance) < rule.margin or distance_to_segment(a, b, point) > abs(distance) + 1e-9:
            return False  # too close to judge, or beside the line's extension rather than the line
        now = 1 if distance > 0 else -1
        before = state.sides.get(rule.name)
        state.sides[rule.name] = now
        return before is not None and before != now

    def _left_behind(self, rule: Rule, obs: Seen, state: _TrackState, at_us: int, local: datetime) -> list[RuleHit]:
        if rule.kind is not RuleKind.LEFT_BEHIND or state.stationary_since is None or rule.name in state.reported:
            return []
        assert self._started_us is not None
        if state.first_us - self._started_us < self._new_after_us:
            return []  # it was there when watching began
        if rule.polygon and not contains(rule.polygon, obs.point):
            return []
        if at_us - state.stationary_since < rule.min_s * 1e6:
            return []
        state.reported.add(rule.name)
        text = (
            f"{one_of(obs.label)} left in '{rule.place}' at {_clock(local, at_us - state.stationary_since)} "
            f"has not moved for {duration_words((at_us - state.stationary_since) / 1e6)}"
        )
        return [self._hit(rule, state.stationary_since, at_us, (obs.track_id,), (obs.label,), text)]

    def _ended(self, track_id: int, state: _TrackState, at_us: int, local: datetime) -> list[RuleHit]:
        hits = []
        for rule in self.rules:
            if state.label not in rule.labels or not rule.armed(local):
                continue
            if rule.kind is RuleKind.ZONE_EXIT and rule.name in state.inside:
                hits.append(self._exit(rule, track_id, state.label, state.inside[rule.name], at_us, local))
            standing = state.stationary_since
            stood = standing is not None and at_us - standing >= rule.min_s * 1e6
            there = not rule.polygon or contains(rule.polygon, state.point)
            if rule.kind is RuleKind.REMOVED and stood and there and standing is not None:
                text = (
                    f"{one_of(state.label)} that had stood in '{rule.place}' for "
                    f"{duration_words((at_us - standing) / 1e6)} was removed at {_clock(local)}"
                )
                hits.append(self._hit(rule, at_us, at_us, (track_id,), (state.label,), text))
        return hits

    def _exit(self, rule: Rule, track_id: int, label: str, since: int, at_us: int, local: datetime) -> RuleHit:
        stay = duration_words((at_us - since) / 1e6)
        text = f"{one_of(label)} left zone '{rule.place}' at {_clock(local)} after {stay}"
        return self._hit(rule, since, at_us, (track_id,), (label,), text)

    # --- crowds ---------------------------------------------------------------------------------------
    def _crowd_rules(self, seen: Sequence[Seen], at_us: int, local: datetime) -> list[RuleHit]:
        hits = []
        for rule in self.rules:
            if rule.kind is not RuleKind.CROWD:
                continue
            crowd = self._crowds[rule.name]
            inside = tuple(o.track_id for o in seen if o.label in rule.labels and contains(rule.polygon, o.point))
            label = next(iter(sorted(rule.labels)))
            if len(inside) >= rule.min_count:
                crowd.since_us = crowd.since_us if crowd.since_us is not None else at_us
                crowd.members = tuple(sorted(set(crowd.members) | set(inside)))
                if not crowd.reported and at_us - crowd.since_us >= rule.min_s * 1e6 and rule.armed(local):
                    crowd.reported = True
                    text = (
                        f"{len(inside)} {many_of(label)} gathered in zone '{rule.place}' at "
                        f"{_clock(local, at_us - crowd.since_us)}"
                    )
                    hits.append(self._hit(rule, crowd.since_us, None, inside, (label,), text))
            elif crowd.since_us is not None:
                if crowd.reported:
                    text = (
                        f"The crowd of up to {len(crowd.members)} {many_of(label)} in zone '{rule.place}' dispersed at "
                        f"{_clock(local)} after {duration_words((at_us - crowd.since_us) / 1e6)}"
                    )
                    hits.append(self._hit(rule, crowd.since_us, at_us, crowd.members, (label,), text))
                self._crowds[rule.name] = _Crowd()
        return hits

    @staticmethod
    def _hit(
        rule: Rule, start: int, end: int | None, ids: tuple[int, ...], labels: tuple[str, ...], text: str
    ) -> RuleHit:
        return RuleHit(rule.name, rule.kind, rule.place, start, end, ids, labels, text[0].upper() + text[1:])


def _clock(local: datetime, ago_us: int = 0) -> str:
    """Local wall time, ``ago_us`` before ``local``."""
    return (local - timedelta(microseconds=ago_us)).strftime("%H:%M:%S")
