"""Zones, lines, motion masks and rules in the config: checked with the path of the bad key, turned into the
rule engine's rules."""

import pytest

from vigil.config import parse_config
from vigil.domain.errors import ConfigError
from vigil.domain.rules import RuleKind

DOCK = [[0.5, 0.5], [0.9, 0.5], [0.9, 0.9], [0.5, 0.9]]


def config(analysis: dict) -> dict:
    return {
        "cameras": [{"id": "yard", "name": "Yard", "streams": {"main": {"url": "rtsp://cam/s"}}, "analysis": analysis}]
    }


def error(analysis: dict) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(config(analysis), "vigil.yaml")
    return info.value.message


def test_zones_lines_and_rules_become_engine_rules():
    cfg = parse_config(
        config(
            {
                "zones": [{"name": "Loading dock", "points": DOCK}],
                "lines": [{"name": "Gate", "points": [[0.5, 0.1], [0.5, 0.9]]}],
                "motion_mask": [[[0, 0], [0.3, 0], [0.3, 0.1]]],
                "rules": [
                    {
                        "name": "night",
                        "kind": "zone_enter",
                        "zone": "Loading dock",
                        "schedule": [{"days": ["tue"], "start": "22:00", "end": "06:00"}],
                    },
                    {
                        "name": "in",
                        "kind": "line_cross",
                        "line": "Gate",
                        "direction": "right_to_left",
                        "labels": ["car"],
                    },
                    {"name": "crowd", "kind": "crowd", "zone": "Loading dock", "min_count": 5, "min_s": 10},
                ],
            }
        )
    )
    night, inbound, crowd = cfg.cameras[0].analysis.domain_rules()
    assert night.kind is RuleKind.ZONE_ENTER and night.polygon == tuple(tuple(p) for p in DOCK)
    assert night.schedules[0].days == frozenset({1}) and (night.schedules[0].start_min, night.schedules[0].end_min) == (
        1320,
        360,
    )
    assert inbound.line == ((0.5, 0.1), (0.5, 0.9)) and inbound.labels == frozenset({"car"}) and inbound.place == "Gate"
    assert crowd.min_count == 5 and crowd.min_s == 10


@pytest.mark.parametrize(
    ("analysis", "expected"),
    [
        (
            {"zones": [{"name": "bow", "points": [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]}]},
            "cameras[0].analysis.zones[0]: zone 'bow': the polygon crosses itself",
        ),
        ({"zones": [{"name": "far", "points": [[0.1, 0.1], [1.5, 0.2], [0.5, 0.8]]}]}, "is outside the frame"),
        ({"motion_mask": [[[0.1, 0.1], [0.2, 0.2]]]}, "motion_mask polygon 1: a polygon needs at least 3 points"),
        (
            {"rules": [{"name": "r", "kind": "zone_enter", "zone": "Dock"}]},
            "rule 'r': no zone named 'Dock' (zones: none)",
        ),
        ({"rules": [{"name": "r", "kind": "line_cross"}]}, "rule 'r': line_cross needs a line"),
        (
            {"rules": [{"name": "r", "kind": "loiter", "zone": "d"}], "zones": [{"name": "d", "points": DOCK}]},
            "loiter needs min_s",
        ),
        ({"zones": [{"name": "d", "points": DOCK}, {"name": "d", "points": DOCK}]}, "zone name 'd' is used twice"),
        ({"rules": [{"name": "r", "kind": "teleport"}]}, "cameras[0].analysis.rules[0].kind"),
        (
            {
                "rules": [{"name": "r", "kind": "crowd", "zone": "d", "schedule": [{"start": "25:00"}]}],
                "zones": [{"name": "d", "points": DOCK}],
            },
            "schedule[0].start",
        ),
    ],
)
def test_bad_geometry_and_rules_are_refused_with_the_key_and_the_reason(analysis, expected):
    assert expected in error(analysis)
