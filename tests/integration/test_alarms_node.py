"""Alarms on a real node with real receivers (an HTTP webhook receiver and Debian's mosquitto): a burst of duplicate
events folds into one alarm whose notification arrives signed on the webhook and on ``vigil/alarms``; an alarm left
unacknowledged escalates by the scheduler's own clock; a node stopped mid-escalation escalates at its next start; a
maintenance suppression is recorded and sends nothing."""

from __future__ import annotations

import json
import time

import pytest

from support.node import wait_for
from support.notify import SECRET, SECRET_ENV, notifying_node, webhook_channel
from support.receivers import Mosquitto, MqttWatcher, WebhookReceiver
from vigil.notify.webhook import signing_key, verify

RULES = [{"name": "Intrusion", "types": ["zone_enter"], "priority": 1, "routing": {"channels": ["hook"]}}]


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    r = WebhookReceiver().start()
    yield r
    r.stop()


def alarms(receiver: WebhookReceiver) -> list[dict]:
    return [d for d in receiver.docs() if d.get("kind") == "alarm"]


def burst(node, camera: str, n: int) -> None:
    for _ in range(n):
        now = node.clock.now_us()
        node.catalog.add_event("zone_enter", now, f"A person at {camera}", camera_id=camera, end_us=now, zone="Dock")


def test_a_burst_folds_into_one_alarm_sent_signed_to_the_webhook_and_mqtt(tmp_path, receiver):
    broker = Mosquitto(tmp_path).start()
    watcher = MqttWatcher(broker.port, "vigil/alarms")
    mqtt = {"name": "broker", "kind": "mqtt", "host": "127.0.0.1", "port": broker.port, "timeout_s": 2}
    rules = [{**RULES[0], "routing": {"channels": ["hook", "broker"], "roles": ["operator"]}}]
    node = notifying_node(tmp_path, [webhook_channel(receiver.url), mqtt], routes=[], alarms={"rules": rules})
    try:
        burst(node, "gate", 25)
        burst(node, "dock", 1)
        wait_for(lambda: len(alarms(receiver)) >= 2, what="two alarm notifications")
        wait_for(lambda: len(watcher.on("vigil/alarms")) >= 2, what="two alarms on vigil/alarms")
        time.sleep(0.5)
        docs = alarms(receiver)
        assert len(docs) == 2 and {d["alarm"]["camera_id"] for d in docs} == {"gate", "dock"}
        assert all(d["change"] == "raised" and d["notify"]["roles"] == ["operator"] for d in docs)
        gate = next(a for a in node.alarm_desk.store.alarms() if a.camera_id == "gate")
        wait_for(lambda: node.alarm_desk.store.alarm(gate.id).event_count == 25, what="the burst folded")
        first = next(r for r in receiver.received if json.loads(r.body).get("kind") == "alarm")
        assert verify(signing_key(SECRET), first.headers, first.body, int(time.time()))
        over_mqtt = [json.loads(p) for p in watcher.on("vigil/alarms")]
        assert {d["alarm"]["camera_id"] for d in over_mqtt} == {"gate", "dock"}
        assert receiver.docs() == alarms(receiver), "events themselves are routed nowhere here"
    finally:
        node.stop()
        watcher.stop()
        broker.stop()


def test_an_unacknowledged_alarm_escalates_by_the_clock_and_stops_when_acknowledged(tmp_path, receiver):
    steps = [
        {"name": "next contact", "channels": ["hook"], "users": ["bob"]},
        {"name": "supervisor", "channels": ["hook"], "roles": ["admin"]},
    ]
    escalation = {"deadlines_s": {1: 1.0}, "steps": steps}
    alarm_config = {"rules": RULES, "escalation": escalation, "check_interval_s": 0.2}
    node = notifying_node(tmp_path, [webhook_channel(receiver.url)], routes=[], alarms=alarm_config)
    try:
        burst(node, "gate", 1)
        wait_for(lambda: alarms(receiver), what="the alarm")
        raised_at = time.time()
        wait_for(lambda: any(d["change"] == "escalated" for d in alarms(receiver)), timeout=10, what="escalation")
        escalated = next(d for d in alarms(receiver) if d["change"] == "escalated")
        assert 0.8 < time.time() - raised_at < 3.0
        assert escalated["escalation"] == {"step": 1, "name": "next contact"} and escalated["notify"]["users"] == [
            "bob"
        ]
        alarm_id = escalated["alarm"]["id"]
        node.alarm_desk.acknowledge(alarm_id, "ana")
        time.sleep(2.5)  # the supervisor's deadline passes: nothing more, it was acknowledged
        changes = [d["change"] for d in alarms(receiver)]
        assert changes == ["raised", "escalated", "acknowledged"]
    finally:
        node.stop()


def test_a_node_stopped_mid_escalation_escalates_when_it_starts_again(tmp_path, receiver):
    escalation = {"deadlines_s": {1: 2.0}, "steps": [{"name": "supervisor", "channels": ["hook"]}]}
    alarm_config = {"rules": RULES, "escalation": escalation, "check_interval_s": 0.2}
    node = notifying_node(tmp_path, [webhook_channel(receiver.url)], routes=[], alarms=alarm_config)
    try:
        burst(node, "gate", 1)
        wait_for(lambda: alarms(receiver), what="the alarm")
    finally:
        node.stop()  # before its deadline
    time.sleep(2.5)
    assert [d["change"] for d in alarms(receiver)] == ["raised"]
    again = notifying_node(tmp_path, [webhook_channel(receiver.url)], routes=[], alarms=alarm_config)
    try:
        wait_for(lambda: any(d["change"] == "escalated" for d in alarms(receiver)), timeout=10, what="escalation")
        [alarm] = again.alarm_desk.store.alarms()
        assert alarm.escalation_level == 1 and alarm.next_escalation_us is None
    finally:
        again.stop()


def test_a_maintenance_suppression_is_recorded_and_sends_nothing(tmp_path, receiver):
    node = notifying_node(tmp_path, [webhook_channel(receiver.url)], routes=[], alarms={"rules": RULES})
    try:
        node.alarm_desk.suppress("maintenance", ["gate"], None, None, "camera being cleaned", "ana", "test")
        burst(node, "gate", 3)
        burst(node, "dock", 1)
        wait_for(lambda: alarms(receiver), what="dock's alarm")
        time.sleep(1.0)
        assert [d["alarm"]["camera_id"] for d in alarms(receiver)] == ["dock"]
        gate = next(a for a in node.alarm_desk.store.alarms(states=["suppressed"]))
        assert (
            gate.camera_id == "gate" and gate.event_count == 3 and "camera being cleaned" in (gate.suppressed_by or "")
        )
        assert node.audit.entries(action="alarm_suppression")[0].reason == "camera being cleaned"
    finally:
        node.stop()
