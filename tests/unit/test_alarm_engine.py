"""The alarm engine and desk on a real SQLite catalog and outbox with a fake clock: an event raises an alarm whose
notification is stored with it, a burst of duplicates folds into it, a suppression is recorded (and audited) and
notifies nobody, deadlines escalate step by step, an acknowledgement stops them, and a new engine on the same
catalog (a restart) escalates what fell due while it was down and catches up events left unhandled."""

import json
from pathlib import Path

import pytest

from support.node import node_config
from vigil.domain.errors import Conflict
from vigil.notify.service import notification_router
from vigil.storage.alarms import SqlAlarms
from vigil.storage.audit_log import SqlAuditLog
from vigil.storage.catalog import SqlCatalog, sqlite_url
from vigil.storage.outbox import SqlOutbox
from vigil.usecases.alarm_desk import AlarmDesk
from vigil.usecases.alarm_engine import AlarmEngine, AlarmSettings
from vigil.usecases.event_bus import AlarmPublished
from vigil.usecases.notifications import Outbox

T0 = 1_764_000_000_000_000  # 2025-11-24T16:00:00Z, a Monday
S = 1_000_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def now_us(self) -> int:
        return self.now


ALARMS = {
    "fold_window_s": 60,
    "rules": [
        {"name": "Intrusion", "types": ["zone_enter", "line_cross"], "priority": 1,
         "routing": {"channels": ["soc"], "users": ["ana"], "roles": ["operator"]}},
        {"name": "Offline", "types": ["camera_offline"], "priority": 3, "routing": {"channels": ["soc"]}},
    ],
    "escalation": {
        "deadlines_s": {1: 60},
        "steps": [{"name": "next contact", "channels": ["guards"], "users": ["bob"]},
                  {"name": "supervisor", "channels": ["soc"], "roles": ["admin"]}],
    },
}  # fmt: skip
CHANNELS = [
    {"name": "soc", "kind": "webhook", "url": "https://soc.example.com/h", "secret_env": "X"},
    {"name": "guards", "kind": "webhook", "url": "https://guards.example.com/h", "secret_env": "X"},
]


class Bench:
    def __init__(self, tmp_path: Path) -> None:
        cameras = {"gate": "rtsp://10.0.0.5/1", "yard": "rtsp://10.0.0.6/1"}
        self.config, _ = node_config(tmp_path, cameras, notifications={"channels": CHANNELS}, alarms=ALARMS)
        self.tmp_path = tmp_path
        self.clock = Clock()
        self.published: list[AlarmPublished] = []
        self.open()

    def open(self) -> None:
        self.catalog = SqlCatalog(sqlite_url(self.tmp_path / "vigil.db"))
        self.outbox = Outbox(
            SqlOutbox(self.catalog), notification_router(self.config, self.clock, self.tmp_path), self.clock
        )
        self.store = SqlAlarms(self.catalog)
        self.audit = SqlAuditLog(self.catalog, self.tmp_path / "audit.head")
        settings = AlarmSettings.of(self.config)
        self.engine = AlarmEngine(
            self.store, self.catalog, self.outbox, self.clock, lambda: settings, self.published.append
        )
        self.desk = AlarmDesk(self.store, self.catalog, self.outbox, self.audit, self.clock, self.published.append)

    def event(self, camera="gate", type_="zone_enter", at=None):
        at = self.clock.now if at is None else at
        event_id = self.catalog.add_event(
            type_, at, f"A person entered zone at {camera}", camera_id=camera, end_us=at, zone="Dock", labels=["person"]
        )
        return self.catalog.event(event_id)

    def notifications(self, channel=None):
        return [json.loads(self.outbox.store.notification(v.notification.id).payload)
                for v in reversed(self.outbox.list(channel=channel, limit=1000))]  # fmt: skip


@pytest.fixture
def bench(tmp_path):
    b = Bench(tmp_path)
    yield b
    b.catalog.close()


def test_an_event_raises_an_alarm_with_its_notification_in_one_go(bench):
    ev = bench.event()
    alarm = bench.engine.handle(ev)
    assert alarm is not None and alarm.state == "new" and alarm.priority == 1 and alarm.title == "P1 Intrusion: Gate"
    assert alarm.next_escalation_us == T0 + 60 * S
    [doc] = bench.notifications("soc")
    assert doc["kind"] == "alarm" and doc["change"] == "raised" and doc["alarm"]["id"] == alarm.id
    assert doc["event"]["id"] == ev.id and doc["notify"] == {"users": ["ana"], "roles": ["operator"]}
    assert bench.outbox.list()[0].notification.key == "gate", "ordered with the camera's other notifications"
    assert [h.change for h in bench.store.history(alarm.id)] == ["raised"]
    assert bench.engine.handle(ev) is None, "an event handled twice raises nothing more"
    assert bench.engine.handle(bench.event(type_="motion")) is None, "no rule: no alarm"
    assert [m.change for m in bench.published] == ["raised"]


def test_a_burst_of_duplicate_events_folds_into_one_alarm(bench):
    first = bench.engine.handle(bench.event())
    for k in range(1, 40):
        bench.clock.now = T0 + k * S // 2
        bench.engine.handle(bench.event())
    other = bench.engine.handle(bench.event(camera="yard"))
    assert other.id != first.id, "another camera: another alarm"
    gate = bench.store.alarm(first.id)
    assert gate.event_count == 40 and len(bench.store.event_ids(first.id)) == 40
    assert len(bench.notifications("soc")) == 2, "one notification per alarm, not per event"
    bench.clock.now = T0 + 200 * S  # past the fold window: a new alarm
    later = bench.engine.handle(bench.event())
    assert later.id not in (first.id, other.id)


def test_a_suppression_records_the_alarm_and_notifies_nobody(bench):
    sup = bench.desk.suppress("maintenance", ["gate"], None, T0 + 600 * S, "lens cleaning", "ana", "127.0.0.1")
    alarm = bench.engine.handle(bench.event())
    assert alarm.state == "suppressed" and f"maintenance #{sup.id} by ana: lens cleaning" == alarm.suppressed_by
    assert alarm.next_escalation_us is None and bench.notifications() == []
    assert [h.change for h in bench.store.history(alarm.id)] == ["suppressed"]
    assert bench.engine.handle(bench.event(camera="yard")).state == "new", "other cameras are not suppressed"
    assert bench.engine.handle(bench.event()).id == alarm.id, "duplicates fold into the suppressed record"
    placed = bench.audit.entries(action="alarm_suppression")
    assert placed[0].detail["change"] == "placed" and placed[0].reason == "lens cleaning"
    bench.clock.now += S
    bench.desk.lift(sup.id, "done early", "ana")
    with pytest.raises(Conflict, match="lifted already"):
        bench.desk.lift(sup.id, "again", "ana")
    bench.clock.now = T0 + 3600 * S
    assert bench.engine.handle(bench.event()).state == "new"


def test_maintenance_windows_from_the_configuration_suppress_too(tmp_path):
    b = Bench(tmp_path)
    # T0 is a Monday 16:00 UTC
    window = {
        "name": "Cleaning",
        "cameras": ["gate"],
        "schedule": [{"days": ["mon"], "start": "15:00", "end": "17:00"}],
    }
    b.config, _ = node_config(tmp_path, {"gate": "rtsp://10.0.0.5/1"}, notifications={"channels": CHANNELS},
                              alarms={**ALARMS, "maintenance": [window]})  # fmt: skip
    b.open()
    assert b.engine.handle(b.event()).suppressed_by == "maintenance window 'Cleaning'"
    b.catalog.close()


def test_unacknowledged_alarms_escalate_step_by_step_and_acknowledging_stops_it(bench):
    alarm = bench.engine.handle(bench.event())
    bench.clock.now = T0 + 59 * S
    assert bench.engine.tick() == []
    bench.clock.now = T0 + 60 * S
    [once] = bench.engine.tick()
    assert once.escalation_level == 1 and once.next_escalation_us == T0 + 120 * S
    [doc] = bench.notifications("guards")
    assert doc["change"] == "escalated" and doc["escalation"] == {"step": 1, "name": "next contact"}
    assert doc["notify"]["users"] == ["bob"]
    assert bench.engine.tick() == [], "not again before the next deadline"
    bench.clock.now = T0 + 90 * S
    acked = bench.desk.acknowledge(alarm.id, "ana", "127.0.0.1")
    assert acked.acknowledged_by == "ana" and acked.next_escalation_us is None
    bench.clock.now = T0 + 10_000 * S
    assert bench.engine.tick() == []
    assert [h.change for h in bench.store.history(alarm.id)] == ["raised", "escalated", "acknowledged"]
    entry = bench.audit.entries(action="alarm")[0]
    assert entry.actor == "ana" and entry.detail["change"] == "acknowledged" and entry.camera_id == "gate"
    with pytest.raises(Conflict):
        bench.desk.acknowledge(alarm.id, "bob")


def test_after_a_restart_missed_deadlines_escalate_and_left_over_events_become_alarms(bench):
    alarm = bench.engine.handle(bench.event())
    bench.catalog.close()  # Vigil stops (or dies) with the alarm unacknowledged
    bench.clock.now = T0 + 30 * S
    bench.open()
    left_over = bench.event(camera="yard")  # written, but the engine never saw it (a crash in between)
    bench.clock.now = T0 + 500 * S  # both deadlines passed while it was down
    bench.engine.start()
    try:
        again = bench.store.alarm(alarm.id)
        assert again.escalation_level == 2 and again.next_escalation_us is None
        assert [d["escalation"]["name"] for d in bench.notifications() if d["change"] == "escalated"] == [
            "next contact", "supervisor",
        ]  # fmt: skip
        yard = bench.store.alarm_of_event(left_over.id)
        assert yard is not None and bench.store.alarm(yard).camera_id == "yard"
    finally:
        bench.engine.stop()


def test_assign_and_resolve_with_an_outcome_are_stored_notified_and_audited(bench):
    alarm = bench.engine.handle(bench.event())
    bench.clock.now += 5 * S
    bench.desk.assign(alarm.id, "Bob", "ana")
    bench.clock.now += 5 * S
    done = bench.desk.resolve(alarm.id, "false_alarm", "bob", "a fox")
    assert (done.state, done.assigned_to, done.outcome, done.resolved_by) == ("resolved", "bob", "false_alarm", "bob")
    changes = [d["change"] for d in bench.notifications("soc")]
    assert changes == ["raised", "assigned", "resolved"]
    resolved = bench.audit.entries(action="alarm")[0]
    assert resolved.reason == "a fox" and resolved.detail["outcome"] == "false_alarm"


def test_a_burst_handled_as_one_batch_folds_within_it_and_publishes_after_the_commit(bench):
    events = [bench.event() for _ in range(10)] + [bench.event(camera="yard")]
    bench.engine.handle_batch(events)
    raised = [m for m in bench.published if m.change == "raised"]
    assert len(raised) == 2 and len([m for m in bench.published if m.change == "folded"]) == 9
    gate = bench.store.alarm(raised[0].alarm.id)
    assert gate.event_count == 10 and len(bench.notifications("soc")) == 2
    bench.engine.handle_batch([bench.event(), bench.event()])
    assert bench.store.alarm(gate.id).event_count == 12


def test_the_configuration_refuses_unknown_channels_cameras_and_priorities_with_their_path(tmp_path):
    from vigil.config.loader import parse_config
    from vigil.domain.errors import ConfigError

    cams = [{"id": "gate", "name": "Gate", "streams": {"main": {"url": "rtsp://10.0.0.5/1"}}}]
    bad = [
        ({"rules": [{"name": "x", "routing": {"channels": ["pager"]}}]},
         "alarms.rules[0] ('x').routing: no notification channel named 'pager'"),
        ({"escalation": {"steps": [{"name": "boss", "channels": ["pager"]}]}},
         "alarms.escalation.steps[0]: no notification channel"),
        ({"rules": [{"name": "x", "cameras": ["dock"]}]}, "no camera with id 'dock'"),
        ({"maintenance": [{"name": "m", "cameras": ["dock"], "schedule": [{}]}]}, "alarms.maintenance[0] ('m')"),
        ({"rules": [{"name": "x", "priority": 5}]}, "alarms.rules[0].priority"),
        ({"rules": [{"name": "x", "types": ["explosion"]}]}, "unknown event type 'explosion'"),
        ({"rules": [{"name": "x", "routing": {"roles": ["janitor"]}}]}, "unknown role 'janitor'"),
        ({"escalation": {"deadlines_s": {7: 10}}}, "priority 7 is not one of"),
        ({"rules": [{"name": "x"}, {"name": "x"}]}, "used twice"),
        ({"rules": [{"name": "x", "colour": "red"}]}, "alarms.rules[0].colour: unknown key"),
    ]  # fmt: skip
    for alarms, message in bad:
        with pytest.raises(ConfigError) as caught:
            parse_config({"cameras": cams, "notifications": {"channels": CHANNELS}, "alarms": alarms})
        assert message in caught.value.message, (alarms, caught.value.message)
