from datetime import datetime, timedelta

import pytest

from vigil.domain.errors import ConfigError
from vigil.domain.geometry import check_line, check_polygon, contains
from vigil.domain.rules import Rule, RuleEngine, RuleKind, Schedule, Seen

T0 = datetime(2026, 11, 25, 2, 13, 5)  # a Wednesday, 02:13:05 local
DOCK = ((0.5, 0.5), (0.9, 0.5), (0.9, 0.9), (0.5, 0.9))
STEP_US = 200_000


class Feed:
    """Feed the engine frame by frame, 5 frames a second."""

    def __init__(self, *rules: Rule) -> None:
        self.engine = RuleEngine(rules)
        self.k = 0
        self.hits = []

    def frame(self, *seen: Seen, ended=()) -> list:
        at_us = self.k * STEP_US
        hits = self.engine.step(list(seen), ended, at_us, T0 + timedelta(microseconds=at_us))
        self.hits += hits
        self.k += 1
        return hits

    def frames(self, n: int, *seen: Seen) -> None:
        for _ in range(n):
            self.frame(*seen)


def walker(track_id: int, x: float, y: float, label: str = "person", stationary: bool = False) -> Seen:
    return Seen(track_id, label, (x, y), stationary)


# --- geometry -------------------------------------------------------------------------------------------
def test_polygons_are_checked_in_plain_words():
    assert check_polygon("zone 'dock'", DOCK) == DOCK
    with pytest.raises(ConfigError, match="at least 3 points"):
        check_polygon("zone 'dock'", [(0, 0), (1, 1)])
    with pytest.raises(ConfigError, match="crosses itself"):
        check_polygon("zone 'bow'", [(0.1, 0.1), (0.9, 0.9), (0.9, 0.1), (0.1, 0.9)])
    with pytest.raises(ConfigError, match=r"point 2 \(1.5, 0.2\) is outside the frame"):
        check_polygon("zone 'far'", [(0.1, 0.1), (1.5, 0.2), (0.5, 0.8)])
    with pytest.raises(ConfigError, match="no area"):
        check_polygon("zone 'flat'", [(0.1, 0.1), (0.2, 0.2), (0.3, 0.3)])
    with pytest.raises(ConfigError, match="same point"):
        check_line("line 'gate'", (0.2, 0.2), (0.2, 0.2))


def test_point_in_polygon_including_edges_and_concave_shapes():
    ell = ((0.1, 0.1), (0.5, 0.1), (0.5, 0.3), (0.3, 0.3), (0.3, 0.6), (0.1, 0.6))
    assert contains(ell, (0.2, 0.5)) and contains(ell, (0.4, 0.2))
    assert not contains(ell, (0.4, 0.5))  # the notch
    assert contains(DOCK, (0.5, 0.7))  # on an edge


# --- rules ----------------------------------------------------------------------------------------------
def test_entering_and_leaving_a_zone_with_the_stay_in_the_description():
    enter = Rule("dock in", RuleKind.ZONE_ENTER, zone="Loading dock", polygon=DOCK)
    leave = Rule("dock out", RuleKind.ZONE_EXIT, zone="Loading dock", polygon=DOCK)
    feed = Feed(enter, leave)
    feed.frame(walker(1, 0.2, 0.7))
    feed.frame(walker(1, 0.6, 0.7))
    feed.frames(5 * 60 * 3 + 5 * 12 - 1, walker(1, 0.7, 0.7))  # 3 min 12 s inside
    feed.frame(walker(1, 0.95, 0.7))
    kinds = [h.kind for h in feed.hits]
    assert kinds == [RuleKind.ZONE_ENTER, RuleKind.ZONE_EXIT]
    assert feed.hits[0].description == "A person entered zone 'Loading dock' at 02:13:05"
    assert feed.hits[1].description.endswith("after 3 min 12 s")
    assert feed.hits[1].start_us == STEP_US and feed.hits[1].end_us == feed.hits[1].start_us + 192_000_000


def test_a_track_that_ends_inside_a_zone_has_left_it():
    feed = Feed(Rule("out", RuleKind.ZONE_EXIT, zone="Dock", polygon=DOCK))
    feed.frames(3, walker(1, 0.7, 0.7))
    feed.frame(ended=[1])
    assert [h.kind for h in feed.hits] == [RuleKind.ZONE_EXIT]


def test_line_crossing_respects_direction():
    gate = ((0.5, 0.1), (0.5, 0.9))  # top to bottom: its left is the screen's right (x > 0.5)
    inbound = Rule("in", RuleKind.LINE_CROSS, zone="Gate", line=gate, direction="right_to_left")
    feed = Feed(inbound, Rule("any", RuleKind.LINE_CROSS, zone="Gate", line=gate))
    feed.frame(walker(1, 0.4, 0.5))
    feed.frame(walker(1, 0.6, 0.5))  # x grows: from the line's right side to its left
    feed.frame(walker(2, 0.7, 0.5))
    feed.frame(walker(2, 0.3, 0.5))
    feed.frame(walker(3, 0.4, 0.95))
    feed.frame(walker(3, 0.6, 0.95))  # passes beyond the end of the line: no crossing
    assert [(h.rule, h.track_ids) for h in feed.hits] == [("any", (1,)), ("in", (2,)), ("any", (2,))]
    assert "right to left" in feed.hits[1].description


def test_loitering_fires_once_per_visit_after_the_dwell():
    feed = Feed(Rule("loiter", RuleKind.LOITER, zone="Dock", polygon=DOCK, min_s=30))
    feed.frames(5 * 29, walker(1, 0.7, 0.7))
    assert feed.hits == []
    feed.frames(5 * 10, walker(1, 0.7, 0.7))
    assert len(feed.hits) == 1 and "has stayed in zone 'Dock' for 30 s" in feed.hits[0].description
    feed.frame(walker(1, 0.2, 0.2))
    feed.frames(5 * 31, walker(1, 0.7, 0.7))
    assert len(feed.hits) == 2, "a new visit loiters again"


def test_a_crowd_starts_after_its_time_and_ends_when_it_disperses():
    rule = Rule("crowd", RuleKind.CROWD, zone="Square", polygon=DOCK, min_count=3, min_s=2)
    feed = Feed(rule)
    three = [walker(i, 0.6 + 0.05 * i, 0.7) for i in range(3)]
    feed.frames(5, *three)
    assert feed.hits == []
    feed.frames(6, *three)
    assert len(feed.hits) == 1 and feed.hits[0].end_us is None
    assert feed.hits[0].description == "3 people gathered in zone 'Square' at 02:13:05"
    feed.frames(1, *three[:2])
    assert len(feed.hits) == 2 and feed.hits[1].end_us is not None and "dispersed" in feed.hits[1].description


def test_something_left_behind_and_later_removed():
    left = Rule("bag left", RuleKind.LEFT_BEHIND, labels=frozenset({"suitcase"}), zone="Hall", min_s=10)
    taken = Rule("bag taken", RuleKind.REMOVED, labels=frozenset({"suitcase"}), zone="Hall", min_s=10)
    feed = Feed(left, taken)
    feed.frames(5 * 5)  # watching begins; nothing there
    feed.frames(5 * 3, walker(7, 0.5, 0.5, "suitcase"))
    feed.frames(5 * 12, walker(7, 0.5, 0.5, "suitcase", stationary=True))
    feed.frame(ended=[7])
    assert [h.kind for h in feed.hits] == [RuleKind.LEFT_BEHIND, RuleKind.REMOVED]
    assert "has not moved for 10" in feed.hits[0].description


def test_an_object_there_from_the_start_was_not_left_behind():
    feed = Feed(Rule("bag left", RuleKind.LEFT_BEHIND, labels=frozenset({"suitcase"}), min_s=5))
    feed.frames(5 * 20, walker(7, 0.5, 0.5, "suitcase", stationary=True))
    assert feed.hits == []


def test_schedules_arm_rules_by_local_time_including_past_midnight():
    night = Schedule(days=frozenset({1}), start_min=22 * 60, end_min=6 * 60)  # Tuesday 22:00 - Wednesday 06:00
    assert night.armed(T0)  # Wednesday 02:13, in Tuesday's night
    assert not night.armed(T0 + timedelta(hours=5))  # 07:13
    assert not night.armed(T0 + timedelta(days=1))  # Thursday 02:13: Wednesday night is not armed
    office = Schedule(days=frozenset(range(5)), start_min=8 * 60, end_min=18 * 60)
    feed = Feed(Rule("in", RuleKind.ZONE_ENTER, zone="Dock", polygon=DOCK, schedules=(office,)))
    feed.frame(walker(1, 0.2, 0.2))
    feed.frame(walker(1, 0.7, 0.7))
    assert feed.hits == [], "disarmed at 02:13"


def test_labels_scope_rules():
    feed = Feed(Rule("cars", RuleKind.ZONE_ENTER, labels=frozenset({"car"}), zone="Dock", polygon=DOCK))
    feed.frame(walker(1, 0.2, 0.2))
    feed.frame(walker(1, 0.7, 0.7))
    feed.frame(walker(2, 0.2, 0.2, "car"))
    feed.frame(walker(2, 0.7, 0.7, "car"))
    assert [h.track_ids for h in feed.hits] == [(2,)]
    assert feed.hits[0].description.startswith("A car entered")


def test_jitter_on_a_line_or_a_zone_edge_is_not_a_crossing_or_an_entry():
    gate = ((0.0, 0.5), (1.0, 0.5))
    feed = Feed(
        Rule("cross", RuleKind.LINE_CROSS, zone="Gate", line=gate),
        Rule("in", RuleKind.ZONE_ENTER, zone="Dock", polygon=DOCK),
    )
    feed.frame(walker(1, 0.3, 0.4))  # comes up to the line from above
    for k in range(20):  # and waits at it; the detector's box wobbles by 1% either way
        feed.frame(walker(1, 0.3, 0.5 + (0.01 if k % 2 else -0.01)))
    for k in range(20):  # someone at the dock's edge
        feed.frame(walker(2, 0.5 + (0.01 if k % 2 else -0.01), 0.7))
    assert feed.hits == []
    feed.frame(walker(1, 0.3, 0.6))  # now really over the line
    assert [h.rule for h in feed.hits] == ["cross"]
