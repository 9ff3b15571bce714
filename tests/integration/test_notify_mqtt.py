"""MQTT to Debian's mosquitto on 127.0.0.1 (started here on a free port): the topic layout, retained camera and
node status, QoS 1 delivery in order per camera, and a broker that goes away for a while."""

import json
import time

import pytest

from support.node import wait_for
from support.notify import add_events, notifying_node
from support.receivers import Mosquitto, MqttWatcher


@pytest.fixture
def broker(tmp_path):
    b = Mosquitto(tmp_path).start()
    yield b
    b.stop()


def mqtt_channel(port, **over):
    channel = {"name": "broker", "kind": "mqtt", "host": "127.0.0.1", "port": port, "timeout_s": 2}
    return channel | {"retry_initial_s": 0.2, "retry_max_s": 1.0, "keepalive_s": 5} | over


def test_events_and_camera_status_on_the_topics_integrators_expect(tmp_path, broker):
    watcher = MqttWatcher(broker.port)
    node = notifying_node(tmp_path, [mqtt_channel(broker.port)])
    try:
        wait_for(lambda: watcher.on("vigil/status") == [b"online"], what="the node online")
        ids = add_events(node, ["gate", "dock"], 5)
        now = node.clock.now_us()
        offline = node.catalog.add_event("camera_offline", now, "Camera gate offline", camera_id="gate")
        node.catalog.end_event(offline, now + 1_000_000)
        node.catalog.add_event("detection_down", now, "node-wide", data={})  # no camera: vigil/events only
        wait_for(lambda: len(watcher.on("vigil/events")) == 12, what="every event on vigil/events")
        wait_for(lambda: len(watcher.on("vigil/gate/status")) == 2, what="gate's status twice")
        gate = [json.loads(p) for p in watcher.on("vigil/gate/events")]
        assert [d["event"]["id"] for d in gate] == [i for i in ids if node.catalog.event(i).camera_id == "gate"] + [
            offline
        ]
        assert len(watcher.on("vigil/dock/events")) == 5
        states = [json.loads(p) for p in watcher.on("vigil/gate/status")]
        assert [s["state"] for s in states] == ["offline", "online"] and states[0]["camera_id"] == "gate"
        assert all("id" in json.loads(p) for p in watcher.on("vigil/events"))
        wait_for(lambda: all(v.notification.state == "delivered" for v in node.outbox.list(limit=100)))
    finally:
        node.stop()
        watcher.stop()
    late = MqttWatcher(broker.port)  # a subscriber that comes later gets the retained states
    try:
        wait_for(lambda: late.on("vigil/status") and late.on("vigil/gate/status"), what="retained messages")
        assert late.on("vigil/status") == [b"offline"], "a clean stop says offline"
        assert json.loads(late.on("vigil/gate/status")[0])["state"] == "online"
        assert late.on("vigil/events") == [], "events are not retained"
    finally:
        late.stop()


def test_a_broker_that_goes_away_gets_everything_in_order_when_back(tmp_path, broker):
    node = notifying_node(tmp_path, [mqtt_channel(broker.port)])
    try:
        wait_for(lambda: node.outbox is not None and _connected(node), what="connected")
        broker.stop()
        ids = add_events(node, ["gate", "dock"], 4)
        wait_for(lambda: node.outbox.list(state="pending") and node.outbox.list(state="pending")[-1].attempts)
        failed = node.outbox.list(state="pending")[-1].attempts[0]
        assert failed.outcome == "retry" and "not connected" in failed.error
        time.sleep(1.0)
        broker.start()
        watcher = MqttWatcher(broker.port)
        try:
            wait_for(lambda: not node.outbox.list(state="pending"), timeout=40, what="all delivered")
            wait_for(lambda: len(watcher.on("vigil/gate/events")) >= 4, what="gate's events")
            for cam in ("gate", "dock"):
                seen = [json.loads(p)["event"]["id"] for p in watcher.on(f"vigil/{cam}/events")]
                firsts = list(dict.fromkeys(seen))
                assert firsts == [i for i in ids if node.catalog.event(i).camera_id == cam]
            assert watcher.on("vigil/status")[-1] == b"online", "the node says online again"
        finally:
            watcher.stop()
    finally:
        node.stop()


def _connected(node):
    return any(getattr(d.sender, "_client", None) is not None for d in node.notifications.dispatchers)


def test_the_last_will_says_offline_when_vigil_is_killed(tmp_path, broker):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from support.node import node_config

    pump = Path(__file__).resolve().parents[1] / "support" / "event_pump.py"
    notifications = {"channels": [mqtt_channel(broker.port)], "routes": [{"channel": "broker"}]}
    _, cfg = node_config(tmp_path, {}, notifications=notifications)
    watcher = MqttWatcher(broker.port, "vigil/status")
    with (tmp_path / "pump.log").open("w") as log:
        cmd = [sys.executable, str(pump), str(cfg), "--events", "1"]
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for(lambda: watcher.on("vigil/status")[-1:] == [b"online"], timeout=30, what="online")
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    try:
        killed = time.monotonic()
        wait_for(lambda: watcher.on("vigil/status")[-1:] == [b"offline"], timeout=15, what="the last will")
        assert time.monotonic() - killed <= 1.5 * 5 + 2, "within 1.5 keep-alive periods"
    finally:
        watcher.stop()


def test_a_broker_over_tls_with_its_own_certificate_and_a_login(tmp_path, monkeypatch):
    import ssl

    import paho.mqtt.client as mqtt

    from support.receivers import self_signed

    cert, key = self_signed(tmp_path)
    broker = Mosquitto(tmp_path, tls=(cert, key), users={"vigil": "s3cret pw", "watcher": "w"}).start()
    monkeypatch.setenv("VIGIL_TEST_MQTT_PASSWORD", "s3cret pw")
    got = []
    watcher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="tls-watcher")
    watcher.username_pw_set("watcher", "w")
    watcher.tls_set_context(ssl.create_default_context(cafile=str(cert)))
    watcher.on_connect = lambda c, *_: c.subscribe("vigil/#", qos=1)
    watcher.on_message = lambda _c, _u, msg: got.append(msg.topic)
    watcher.connect("127.0.0.1", broker.port)
    watcher.loop_start()
    login = {"username": "vigil", "password_env": "VIGIL_TEST_MQTT_PASSWORD"}
    node = notifying_node(tmp_path, [mqtt_channel(broker.port, tls=True, ca_file=str(cert), **login)])
    try:
        add_events(node, ["gate"], 2)
        wait_for(lambda: got.count("vigil/gate/events") == 2, what="the events over TLS")
        assert "s3cret" not in (tmp_path / "vigil.yaml").read_text(), "only the variable's name is written"
    finally:
        node.stop()
        watcher.loop_stop()
        broker.stop()
