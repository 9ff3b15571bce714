"""Vigil killed (SIGKILL) in the middle of delivering, the receivers stopped for a while, Vigil started again:
every notification arrives, in order per camera, and the only duplicates are the same notification again (same
id, same bytes). The process killed is the real runtime owning the outbox (``support/event_pump.py``) and
``vigil serve`` itself."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from support.node import node_config, wait_for
from support.notify import SECRET, SECRET_ENV, webhook_channel
from support.receivers import Mosquitto, MqttWatcher, WebhookReceiver
from vigil.commands.serve import free_port

PUMP = Path(__file__).resolve().parents[1] / "support" / "event_pump.py"
CAMERAS = ["gate", "dock", "yard"]


def _outbox(db: Path, channel: str) -> list[tuple[str, str, bytes, str]]:
    """(id, key, payload, state) of a channel's notifications in the order they were stored."""
    with sqlite3.connect(db) as conn:
        q = "SELECT id, key, payload, state FROM notifications WHERE channel = ? ORDER BY seq"
        return conn.execute(q, (channel,)).fetchall()


def _pending(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT count(*) FROM notifications WHERE state = 'pending'").fetchone()[0]
    except sqlite3.OperationalError:
        return -1


def _check(stored, arrivals: list[tuple[str, bytes]]) -> int:
    """Every stored notification arrived with its bytes; per key, first arrivals in stored order; duplicates are
    byte-identical. Returns how many duplicates there were."""
    sent = {nid: payload for nid, _key, payload, _state in stored}
    firsts: dict[str, list[str]] = defaultdict(list)
    seen: dict[str, bytes] = {}
    for nid, body in arrivals:
        assert nid in sent, "nothing arrives that was not stored"
        assert body == sent[nid], "exactly the stored bytes, every time"
        if nid not in seen:
            seen[nid] = body
            firsts[_key_of(stored, nid)].append(nid)
    assert set(seen) == set(sent), f"{len(set(sent) - set(seen))} notification(s) never arrived"
    for key, order in firsts.items():
        assert order == [nid for nid, k, _p, _s in stored if k == key], f"out of order for {key}"
    assert all(state == "delivered" for _n, _k, _p, state in stored)
    return len(arrivals) - len(seen)


def _key_of(stored, nid):
    return next(k for n, k, _p, _s in stored if n == nid)


def _run_pump(cfg: Path, log, events: int, start_at: int = 0):
    cmd = [sys.executable, str(PUMP), str(cfg), "--cameras", ",".join(CAMERAS), "--events", str(events)]
    cmd += ["--start-at", str(start_at)]
    env = {**os.environ, SECRET_ENV: SECRET}
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def test_sigkill_mid_delivery_and_receivers_down_lose_nothing(tmp_path):
    receiver = WebhookReceiver(answer=lambda _doc: "slow").start()  # 0.3 s per webhook: deliveries are in flight
    broker = Mosquitto(tmp_path, persistence=True).start()
    watcher = MqttWatcher(broker.port, "vigil/+/events", durable=True)  # the broker keeps what it misses
    mqtt = {"name": "broker", "kind": "mqtt", "host": "127.0.0.1", "port": broker.port, "keepalive_s": 5}
    mqtt |= {"retry_initial_s": 0.2, "retry_max_s": 1.0, "timeout_s": 2}
    channels = [webhook_channel(receiver.url, max_parallel=2), mqtt]
    routes = [{"channel": "hook"}, {"channel": "broker"}]
    _, cfg = node_config(tmp_path, {}, notifications={"channels": channels, "routes": routes})
    db = tmp_path / "vigil.db"
    try:
        with (tmp_path / "pump.log").open("w") as log:
            proc = _run_pump(cfg, log, events=20)
            try:
                wait_for(lambda: len(receiver.received) >= 15, timeout=30, what="some webhooks delivered")
            finally:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            receiver.stop()  # the receivers go away for a while, and Vigil comes back meanwhile
            broker.stop()
            killed_with = _pending(db)
            assert killed_with > 0, "the kill came in the middle of delivering"
            proc = _run_pump(cfg, log, events=5, start_at=20)
            try:
                time.sleep(2.0)
                receiver.start()
                broker.start()
                wait_for(lambda: _pending(db) == 0, timeout=90, what="everything delivered")
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
        hooks = _outbox(db, "hook")
        assert len(hooks) == 25 * len(CAMERAS)
        duplicates = _check(hooks, [(r.headers["webhook-id"], r.body) for r in receiver.received])
        wait_for(lambda: len(watcher.messages) >= 25 * len(CAMERAS), what="the MQTT messages")
        _check(_outbox(db, "broker"), [(json.loads(p)["id"], p) for _t, p, _r in watcher.messages])
        print(f"pending at the kill: {killed_with}; webhook duplicates: {duplicates}")
    finally:
        watcher.stop()
        receiver.stop()
        broker.stop()


def _segments(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT count(*) FROM segments").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_sigkill_of_vigil_serve_keeps_its_notifications(tmp_path, synthetic_clip):
    """The real command: a recording camera's events (back online after each restart) are notified while the
    receiver is down; Vigil is killed with them pending and started again with the receiver back: all arrive."""
    receiver = WebhookReceiver().start()
    receiver.stop()  # down at first: notifications wait in the outbox
    _, cfg = node_config(
        tmp_path,
        {"door": f"file://{synthetic_clip}"},
        notifications={"channels": [webhook_channel(receiver.url)], "routes": [{"channel": "hook"}]},
    )
    db = tmp_path / "vigil.db"
    env = {**os.environ, SECRET_ENV: SECRET}
    cmd = [sys.executable, "-m", "vigil.cli", "-c", str(cfg), "serve", "--port", str(free_port("127.0.0.1"))]

    def run_until(predicate, what):
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            wait_for(predicate, timeout=60, what=what)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    with (tmp_path / "serve.log").open("w") as log:
        run_until(lambda: _segments(db) > 0, "a segment")  # killed: the next start finds a gap
        run_until(lambda: _pending(db) > 0, "a camera_online notification pending")  # killed with it pending
        before = _outbox(db, "hook")
        receiver.start()
        run_until(lambda: _pending(db) == 0 and len(_outbox(db, "hook")) > len(before), "all delivered")
    receiver.stop()
    stored = _outbox(db, "hook")
    _check(stored, [(r.headers["webhook-id"], r.body) for r in receiver.received])
    assert json.loads(stored[0][2])["event"]["type"] == "camera_online"
