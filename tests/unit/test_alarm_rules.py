"""The alarm domain as pure functions: which rule an event raises, the life cycle (who and when at each step, the
moves that are refused), duplicate folding, escalation timing (missed deadlines included), suppression, the queue
order, and incidents' checklist, notes and durations."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from vigil.domain.alarms import (
    Alarm,
    AlarmRule,
    AlarmState,
    EscalationPolicy,
    EscalationStep,
    MaintenanceWindow,
    Recipients,
    Suppression,
    acknowledge,
    assign,
    check_suppression,
    due_steps,
    escalated,
    escalation_due_us,
    fold_target,
    folded,
    matching_rule,
    queue_order,
    resolve,
    suppressed_by,
)
from vigil.domain.errors import Conflict, InvalidRequest
from vigil.domain.incidents import (
    Incident,
    IncidentState,
    Note,
    StepTick,
    check_incident,
    check_note,
    check_tick,
    checklist,
)
from vigil.domain.plans import PlanStep
from vigil.domain.records import EventRecord
from vigil.domain.rules import Schedule

T0 = 1_764_000_000_000_000
S = 1_000_000
MONDAY_NIGHT = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)  # a Monday, 23:00
MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def event(id_=1, type_="zone_enter", camera="gate", zone="Dock", labels=("person",), at=T0):
    return EventRecord(id_, type_, camera, "sub", at, at, "A person entered zone 'Dock'", {}, zone, labels)


def alarm(**over):
    base = Alarm(
        id=7, rule="Night", priority=1, camera_id="gate", site="hq", state=AlarmState.NEW, title="P1 Night: Gate",
        text="...", first_event_id=1, last_event_id=1, event_count=1, created_us=T0, updated_us=T0, last_event_us=T0,
        next_escalation_us=T0 + 60 * S,
    )  # fmt: skip
    return replace(base, **over)


POLICY = EscalationPolicy(
    {1: 60, 2: 300, 3: 900, 4: 3600},
    (
        EscalationStep("next contact", Recipients(("sms",), ("bob",))),
        EscalationStep("supervisor", Recipients(roles=("admin",))),
    ),
)


def test_the_most_urgent_matching_rule_raises_the_alarm():
    night = AlarmRule(
        "Night", 1, types=frozenset({"zone_enter"}), schedules=(Schedule(start_min=22 * 60, end_min=6 * 60),)
    )
    dock = AlarmRule("Dock people", 3, zones=frozenset({"Dock"}), labels=frozenset({"person"}))
    cars = AlarmRule("Cars", 2, labels=frozenset({"car"}))
    other_site = AlarmRule("Other site", 1, sites=frozenset({"depot"}))
    rules = [dock, night, cars, other_site]
    assert matching_rule(rules, event(), "hq", MONDAY_NIGHT) is night
    assert matching_rule(rules, event(), "hq", MONDAY_NOON) is dock, "outside its armed hours the night rule sleeps"
    assert matching_rule(rules, event(labels=("car",), zone="Road"), "hq", MONDAY_NOON) is cars
    assert matching_rule(rules, event(type_="motion", zone=None, labels=()), "hq", MONDAY_NOON) is None
    assert matching_rule(rules, event(type_="motion"), "depot", MONDAY_NOON) is other_site
    by_camera = AlarmRule("Gate only", 4, cameras=frozenset({"gate"}))
    assert matching_rule([by_camera], event(camera="yard"), "hq", MONDAY_NOON) is None


def test_life_cycle_records_who_and_when_and_refuses_what_makes_no_sense():
    a = alarm()
    acked = acknowledge(a, "ana", T0 + 5 * S)
    assert (acked.state, acked.acknowledged_by, acked.acknowledged_us, acked.next_escalation_us) == (
        AlarmState.ACKNOWLEDGED, "ana", T0 + 5 * S, None,
    )  # fmt: skip
    with pytest.raises(Conflict, match="acknowledged already by ana"):
        acknowledge(acked, "bob", T0 + 6 * S)
    given = assign(acked, "bob", "ana", T0 + 7 * S)
    assert (given.state, given.assigned_to, given.assigned_by, given.acknowledged_by) == (
        AlarmState.ASSIGNED, "bob", "ana", "ana",
    )  # fmt: skip
    done = resolve(given, "false_alarm", "bob", T0 + 9 * S, " a cat ")
    assert (done.state, done.outcome, done.resolved_by, done.resolution_note) == (
        AlarmState.RESOLVED, "false_alarm", "bob", "a cat",
    )  # fmt: skip
    for act in (
        lambda: acknowledge(done, "x", T0),
        lambda: assign(done, "x", "y", T0),
        lambda: resolve(done, "real", "x", T0),
    ):
        with pytest.raises(Conflict, match="resolved by bob"):
            act()
    with pytest.raises(InvalidRequest, match="outcome"):
        resolve(a, "maybe", "ana", T0)
    direct = resolve(a, "test", "ana", T0 + S)
    assert direct.acknowledged_by == "ana" and direct.acknowledged_us == T0 + S, "resolving acknowledges too"
    assigned_new = assign(a, "bob", "ana", T0 + 2 * S)
    assert assigned_new.acknowledged_by == "ana" and assigned_new.next_escalation_us is None
    with pytest.raises(Conflict, match="suppressed"):
        acknowledge(alarm(state=AlarmState.SUPPRESSED, suppressed_by="maintenance"), "ana", T0)


def test_a_burst_of_duplicates_folds_into_the_open_alarm_of_its_rule_and_camera():
    a = alarm(last_event_us=T0)
    window = 120 * S
    assert fold_target([a], "Night", "gate", T0 + 60 * S, window) is a
    assert fold_target([a], "Night", "gate", T0 + 121 * S, window) is None, "past the window: a new alarm"
    assert fold_target([a], "Other", "gate", T0 + S, window) is None
    assert fold_target([a], "Night", "yard", T0 + S, window) is None
    assert fold_target([resolve(a, "real", "x", T0)], "Night", "gate", T0 + S, window) is None, "resolved: new alarm"
    suppressed = alarm(state=AlarmState.SUPPRESSED)
    assert fold_target([suppressed], "Night", "gate", T0 + S, window) is suppressed
    assert fold_target([a], "Night", "gate", T0, 0) is None, "a window of 0 folds nothing"
    newer = alarm(id=9)
    assert fold_target([a, newer], "Night", "gate", T0 + S, window) is newer
    grown = a
    for k in range(1, 50):
        grown = folded(grown, event(id_=k + 1, at=T0 + k * S), T0 + k * S)
    assert (grown.event_count, grown.last_event_id, grown.last_event_us) == (50, 50, T0 + 49 * S)


def test_escalation_steps_fall_due_one_deadline_apart_and_missed_ones_all_at_once():
    a = alarm()
    assert escalation_due_us(T0, 0, 1, POLICY) == T0 + 60 * S
    assert escalation_due_us(T0, 1, 1, POLICY) == T0 + 120 * S
    assert escalation_due_us(T0, 2, 1, POLICY) is None, "no steps left"
    assert escalation_due_us(T0, 0, 3, POLICY) == T0 + 900 * S
    assert due_steps(a, POLICY, T0 + 59 * S) == []
    assert due_steps(a, POLICY, T0 + 60 * S) == [0]
    assert due_steps(a, POLICY, T0 + 10_000 * S) == [0, 1], "down for hours: both steps at start-up"
    once = escalated(a, 0, POLICY, T0 + 60 * S)
    assert (once.escalation_level, once.next_escalation_us) == (1, T0 + 120 * S)
    assert due_steps(once, POLICY, T0 + 100 * S) == []
    assert due_steps(once, POLICY, T0 + 120 * S) == [1]
    twice = escalated(once, 1, POLICY, T0 + 120 * S)
    assert twice.next_escalation_us is None and due_steps(twice, POLICY, T0 + 10**9) == []
    assert due_steps(acknowledge(a, "ana", T0 + S), POLICY, T0 + 10**9) == [], "acknowledged: never escalates"


def test_suppression_by_a_placed_disarm_or_a_recurring_maintenance_window():
    disarm = Suppression(3, "disarm", ("gate",), T0, T0 + 3600 * S, "contractors on site", "ana", T0)
    assert disarm.covers("gate", T0 + S) and not disarm.covers("yard", T0 + S)
    assert not disarm.covers("gate", T0 + 3600 * S), "ended"
    lifted = replace(disarm, lifted_us=T0 + 10 * S, lifted_by="ana")
    assert lifted.covers("gate", T0 + 9 * S) and not lifted.covers("gate", T0 + 10 * S)
    everything = Suppression(4, "maintenance", (), T0, None, "power work", "bob", T0)
    assert everything.covers("any", T0 + 10**12)
    cleaning = MaintenanceWindow("Cleaning", frozenset({"gate"}), (Schedule(frozenset({0}), 22 * 60, 24 * 60),))
    assert suppressed_by([disarm], [], "gate", T0 + S, MONDAY_NOON) == "disarm #3 by ana: contractors on site"
    assert suppressed_by([], [cleaning], "gate", T0, MONDAY_NIGHT) == "maintenance window 'Cleaning'"
    assert suppressed_by([], [cleaning], "gate", T0, MONDAY_NOON) is None
    with pytest.raises(InvalidRequest, match="reason"):
        check_suppression("disarm", ["gate"], T0, None, " ")
    with pytest.raises(InvalidRequest, match="end"):
        check_suppression("disarm", ["gate"], T0, T0, "x")
    with pytest.raises(InvalidRequest, match="kind"):
        check_suppression("nap", [], T0, None, "x")


def test_the_queue_is_priority_then_age():
    a = alarm(id=1, priority=2, created_us=T0)
    b = alarm(id=2, priority=1, created_us=T0 + 5 * S)
    c = alarm(id=3, priority=1, created_us=T0 + S)
    assert [x.id for x in queue_order([a, b, c])] == [3, 2, 1]


def incident(**over):
    steps = (PlanStep("Look", "operator"), PlanStep("Call the guard", "operator"))
    base = Incident(
        1, "intrusion", "Dock", "high", "North", IncidentState.OPEN, "ana", T0 + 10 * S, T0, T0 + 10 * S, None, None,
        None, "", (), "Intrusion", steps, T0,
    )  # fmt: skip
    return replace(base, **over)


def test_incident_checklist_notes_and_durations():
    inc = incident()
    check_incident("intrusion", "Dock", "high", "")
    for bad in (("Intrusion!", "x", "high", ""), ("fire", " ", "high", ""), ("fire", "x", "extreme", "")):
        with pytest.raises(InvalidRequest):
            check_incident(*bad)
    tick = StepTick(1, 0, "done", "ana", T0 + 20 * S)
    check_tick(inc, [], 0, "done")
    with pytest.raises(Conflict, match="ticked already by ana"):
        check_tick(inc, [tick], 0, "done")
    with pytest.raises(InvalidRequest, match="steps 0 to 1"):
        check_tick(inc, [], 2, "done")
    with pytest.raises(Conflict, match="closed"):
        check_tick(incident(state=IncidentState.CLOSED), [], 1, "done")
    rows = checklist(inc.steps, [tick])
    assert [r.tick is not None for r in rows] == [True, False]
    notes = [Note(4, 1, T0, "ana", "first")]
    assert check_note("  fixed  ", 4, notes) == "fixed"
    with pytest.raises(InvalidRequest, match="no note 5"):
        check_note("x", 5, notes)
    with pytest.raises(InvalidRequest, match="say something"):
        check_note("   ", None, notes)
    done = incident(first_action_us=T0 + 20 * S, closed_us=T0 + 600 * S)
    assert done.durations_s() == {"to_acknowledge_s": 10.0, "to_first_action_s": 20.0, "to_close_s": 600.0}
    assert incident().durations_s()["to_close_s"] is None
