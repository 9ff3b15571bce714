"""Who may do what, where, and over which stretch of history (vigil.domain.access)."""

from __future__ import annotations

import pytest

from vigil.domain.access import Action, Grant, Principal, Role, parse_actions, parse_role

CAMS = [("gate", "north"), ("dock", "north"), ("lobby", "south")]
DAY = 86_400_000_000


def test_an_admin_may_do_everything_everywhere_without_grants():
    admin = Principal("root", Role.ADMIN)
    assert all(admin.may(a) for a in Action)
    assert admin.cameras(Action.EXPORT, CAMS) == ["gate", "dock", "lobby"]


def test_an_operator_sees_only_granted_cameras_by_id_or_site():
    op = Principal("op", Role.OPERATOR, (Grant(camera_id="lobby"), Grant(site="north")))
    assert op.cameras(Action.PLAYBACK, CAMS) == ["gate", "dock", "lobby"]
    only_gate = Principal("op2", Role.OPERATOR, (Grant(camera_id="gate"),))
    assert only_gate.cameras(Action.LIVE, CAMS) == ["gate"]
    assert not only_gate.may_on(Action.PLAYBACK, "dock", "north")
    assert not only_gate.may(Action.ADMIN) and not only_gate.may(Action.AUDIT)


def test_a_viewer_has_live_only_and_an_auditor_no_video_unless_a_grant_adds_it():
    everywhere = (Grant(),)
    viewer = Principal("v", Role.VIEWER, everywhere)
    assert viewer.may_on(Action.LIVE, "gate", "north")
    assert not viewer.may_on(Action.PLAYBACK, "gate", "north")
    assert not viewer.may_on(Action.EXPORT, "gate", "north")
    auditor = Principal("a", Role.AUDITOR, everywhere)
    assert auditor.may(Action.AUDIT) and auditor.may(Action.REPORTS)
    assert not auditor.may_on(Action.LIVE, "gate", "north") and not auditor.may_on(Action.PLAYBACK, "gate", "north")
    granted = Principal("a2", Role.AUDITOR, (Grant(camera_id="gate", actions=frozenset({Action.PLAYBACK})),))
    assert granted.may_on(Action.PLAYBACK, "gate", "north")
    assert not granted.may_on(Action.PLAYBACK, "dock", "north"), "the grant's extra action is for its camera only"
    assert not granted.may_on(Action.LIVE, "gate", "north")


def test_a_time_bounded_grant_opens_only_that_stretch_of_history():
    start, end = 10 * DAY, 11 * DAY
    op = Principal("inv", Role.OPERATOR, (Grant(camera_id="dock", history_from_us=start, history_until_us=end),))
    assert op.may_on(Action.PLAYBACK, "dock", "north", (start + 1, end - 1))
    assert not op.may_on(Action.PLAYBACK, "dock", "north", (start - 1, start + 10))
    assert not op.may_on(Action.EXPORT, "dock", "north", (end - 10, end + 1))
    assert op.may_on(Action.LIVE, "dock", "north", (0, 1)), "live view is not history"


def test_admin_actions_are_never_granted_per_camera():
    op = Principal("op", Role.OPERATOR, (Grant(actions=frozenset({Action.ADMIN})),))
    assert not op.may_on(Action.ADMIN, "gate", "north")


def test_unknown_roles_and_actions_are_refused_with_the_choices():
    with pytest.raises(ValueError, match="roles: admin, operator, viewer, auditor"):
        parse_role("superuser")
    with pytest.raises(ValueError, match="unknown action 'delete'"):
        parse_actions(["live", "delete"])
