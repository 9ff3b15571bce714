"""Requests from authorities as pure data: what a request must say, the steps it may take, the period summary."""

from dataclasses import replace

import pytest

from vigil.domain.authority import AuthorityRequest, RequestKind, RequestState, checked, moved, summary
from vigil.domain.errors import Conflict, InvalidRequest

DAY = 86_400 * 1_000_000
T0 = 1_764_000_000_000_000

BASE = AuthorityRequest(
    id=7,
    received_us=T0,
    recorded_by="ana",
    authority="  Pudong Public Security Bureau ",
    officer="Officer Wang",
    officer_id="PS-10482",
    contact="021-0000",
    legal_basis="Criminal Procedure Law art. 54; warrant 2026-118",
    reference="PD-2026-118",
    kind=RequestKind.COPY,
    camera_ids=("gate", "gate", "door"),
    start_us=T0 - DAY,
    end_us=T0 - DAY + 3600 * 1_000_000,
    deadline_us=T0 + 3 * DAY,
)


def test_a_request_is_trimmed_and_its_cameras_deduplicated():
    r = checked(BASE)
    assert r.authority == "Pudong Public Security Bureau" and r.camera_ids == ("gate", "door")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"authority": " "}, "authority: required"),
        ({"legal_basis": ""}, "legal_basis: required"),
        ({"camera_ids": ()}, "cameras: name at least one"),
        ({"end_us": T0 - 2 * DAY}, "end of the range"),
        ({"end_us": T0 + 40 * DAY}, "longer than 31 days"),
        ({"deadline_us": T0 - 1}, "deadline: before"),
        ({"notes": "x" * 2001}, "notes: at most"),
        ({"kind": "borrow"}, "kind: one of view, copy"),
    ],
)
def test_what_a_request_must_say(change, message):
    with pytest.raises(InvalidRequest, match=message):
        checked(replace(BASE, **change))


def test_the_steps_a_request_may_take():
    approved = moved(BASE, RequestState.APPROVED, "boss", T0 + DAY)
    assert (approved.state, approved.decided_by, approved.decided_us) == ("approved", "boss", T0 + DAY)
    done = moved(approved, RequestState.FULFILLED, "ana", T0 + 2 * DAY)
    assert done.fulfilled_by == "ana" and done.fulfilled_us == T0 + 2 * DAY
    with pytest.raises(Conflict, match="is fulfilled: it cannot be withdrawn"):
        moved(done, RequestState.WITHDRAWN, "ana", T0, "changed their mind")
    with pytest.raises(Conflict, match="is received: it cannot be fulfilled"):
        moved(BASE, RequestState.FULFILLED, "ana", T0)
    with pytest.raises(InvalidRequest, match="say why the request is refused"):
        moved(BASE, RequestState.REFUSED, "boss", T0, " ")
    refused = moved(BASE, RequestState.REFUSED, "boss", T0, "no legal basis for this camera")
    assert refused.decision_reason == "no legal basis for this camera"
    with pytest.raises(Conflict):
        moved(refused, RequestState.APPROVED, "boss", T0)


def test_overdue_and_the_summary_of_a_period():
    late_answer = replace(moved(BASE, RequestState.APPROVED, "boss", T0 + 4 * DAY), id=1)
    open_late = replace(BASE, id=2, authority="Court", deadline_us=T0 + DAY)
    on_time = replace(
        moved(moved(BASE, RequestState.APPROVED, "b", T0 + DAY), RequestState.FULFILLED, "a", T0 + 2 * DAY), id=3
    )
    now = T0 + 5 * DAY
    assert open_late.overdue(now) and not on_time.overdue(now) and late_answer.overdue(now)
    s = summary([late_answer, open_late, on_time], now)
    assert s.count == 3 and s.by_state == {"approved": 1, "received": 1, "fulfilled": 1}
    assert s.by_authority == {"  Pudong Public Security Bureau ": 2, "Court": 1}
    assert s.overdue == 2 and s.answered_late == 1
    assert s.days_to_decide_median == 2.5 and s.days_to_fulfil_median == 2.0
