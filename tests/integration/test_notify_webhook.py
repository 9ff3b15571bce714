"""Webhooks to a real HTTP server on 127.0.0.1: signed JSON in order per camera, and the bad receivers (500, a
hang, a redirect, 410, a receiver that is down for a while), each attempt visible in the outbox."""

import time

import pytest

from support.node import wait_for
from support.notify import SECRET, SECRET_ENV, add_events, notifying_node, per_camera, webhook_channel
from support.receivers import WebhookReceiver
from vigil.notify.webhook import signing_key, verify


@pytest.fixture(autouse=True)
def _secret(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)


@pytest.fixture
def receiver():
    r = WebhookReceiver().start()
    yield r
    r.release.set()
    r.stop()


def test_events_arrive_signed_in_order_per_camera_with_their_ids(tmp_path, receiver):
    node = notifying_node(tmp_path, [webhook_channel(receiver.url)])
    try:
        ids = add_events(node, ["gate", "dock", "yard"], 10)
        wait_for(lambda: len(receiver.received) >= 30, what="30 webhooks")
        wait_for(lambda: not node.outbox.list(state="pending"), what="the attempts written")
        time.sleep(0.3)
        assert len(receiver.received) == 30, "each once when nothing fails"
        key = signing_key(SECRET)
        for got in receiver.received:
            assert verify(key, got.headers, got.body, int(time.time()))
            assert got.headers["webhook-id"] == got.doc["id"] and got.headers["content-type"] == "application/json"
            assert got.doc["kind"] == "event" and got.doc["event"]["severity"] == "warning"
        order = per_camera(receiver.docs())
        assert order == {cam: [i for i in ids if node.catalog.event(i).camera_id == cam] for cam in order}
        rows = node.outbox.list(limit=100)
        assert len(rows) == 30 and all(v.notification.state == "delivered" for v in rows)
        stored = {v.notification.id: v for v in rows}
        for got in receiver.received:
            view = node.outbox.show(got.doc["id"])
            assert view.notification.payload == got.body, "exactly the stored bytes"
            assert [a.outcome for a in view.attempts] == ["delivered"] and view.attempts[0].status == 204
        assert set(stored) == {g.doc["id"] for g in receiver.received}
    finally:
        node.stop()


@pytest.mark.parametrize("bad", ["error", "hang", "redirect"])
def test_a_bad_answer_is_retried_and_blocks_only_its_camera(tmp_path, receiver, bad):
    failures = {"left": 3}

    def answer(doc):
        if doc["event"]["camera_id"] == "gate" and failures["left"] > 0:
            failures["left"] -= 1
            return bad
        return "ok"

    receiver.answer = answer
    node = notifying_node(tmp_path, [webhook_channel(receiver.url, timeout_s=1)])
    try:
        add_events(node, ["gate", "dock"], 4)
        wait_for(lambda: len(per_camera(receiver.docs()).get("dock", [])) == 4, timeout=5, what="dock's four")
        assert len(per_camera(receiver.docs()).get("gate", [])) < 4, "gate's head is still failing"
        wait_for(lambda: len(per_camera(receiver.docs()).get("gate", [])) == 4, timeout=30, what="gate's four")
        order = per_camera(receiver.docs())
        assert order["gate"] == sorted(order["gate"]) and order["dock"] == sorted(order["dock"])
        wait_for(lambda: not node.outbox.list(state="pending"), what="the attempts written")
        first_gate = node.outbox.list(key="gate", limit=10)[-1]
        attempts = first_gate.attempts
        assert [a.outcome for a in attempts] == ["retry"] * 3 + ["delivered"]
        if bad == "error":
            assert attempts[0].status == 500 and "HTTP 500" in attempts[0].error
        elif bad == "hang":
            assert attempts[0].status is None and "no answer" in attempts[0].error
            assert attempts[0].duration_ms >= 900
        else:
            assert attempts[0].status == 307 and "does not follow redirects" in attempts[0].error
            assert "127.0.0.1:9/elsewhere" in attempts[0].error
        assert first_gate.notification.last_error == ""
    finally:
        node.stop()


def test_gone_fails_for_good_and_the_camera_goes_on_then_retry_sends_it(tmp_path, receiver):
    refused = set()

    def answer(doc):
        if doc["event"]["data"]["n"] == 0 and doc["id"] not in refused:
            refused.add(doc["id"])
            return "gone"
        return "ok"

    receiver.answer = answer
    node = notifying_node(tmp_path, [webhook_channel(receiver.url)])
    try:
        add_events(node, ["gate"], 3)
        wait_for(lambda: len(receiver.received) == 2, what="the two after the refused one")
        failed = node.outbox.list(state="failed")
        assert len(failed) == 1 and failed[0].attempts[0].status == 410
        assert "refused it for good" in failed[0].notification.last_error
        node.outbox.retry(failed[0].notification.id)
        wait_for(lambda: len(receiver.received) == 3, what="the retried one")
        assert receiver.received[-1].doc["id"] == failed[0].notification.id
        wait_for(lambda: not node.outbox.list(state="pending"), what="the attempt written")
        assert node.outbox.show(failed[0].notification.id).notification.state == "delivered"
    finally:
        node.stop()


def test_a_receiver_down_for_a_while_gets_everything_in_order_when_back(tmp_path, receiver):
    receiver.stop()
    node = notifying_node(tmp_path, [webhook_channel(receiver.url)])
    try:
        ids = add_events(node, ["gate", "dock"], 5)
        wait_for(lambda: len(node.outbox.list(state="pending")[-1].attempts) >= 2, what="failed attempts")
        time.sleep(1.0)
        ids += add_events(node, ["gate", "dock"], 5)
        receiver.start()
        wait_for(lambda: len(per_camera(receiver.docs()).get("gate", [])) == 10, timeout=20)
        wait_for(lambda: len(per_camera(receiver.docs()).get("dock", [])) == 10, timeout=20)
        order = per_camera(receiver.docs())
        assert order["gate"] == [i for i in ids if node.catalog.event(i).camera_id == "gate"]
        assert order["dock"] == [i for i in ids if node.catalog.event(i).camera_id == "dock"]
        head = node.outbox.list(key="gate", limit=100)[-1]
        assert head.attempts[0].outcome == "retry" and "could not reach" in head.attempts[0].error
    finally:
        node.stop()


def test_undelivered_notifications_expire(tmp_path, receiver):
    receiver.answer = lambda _doc: "error"
    node = notifying_node(tmp_path, [webhook_channel(receiver.url, expire_after_s=1.5)])
    try:
        add_events(node, ["gate"], 2)
        wait_for(lambda: len(node.outbox.list(state="expired")) == 2, timeout=10, what="both expired")
        assert receiver.received == [] and len(receiver.requests) >= 1
    finally:
        node.stop()


def test_a_hanging_channel_does_not_hold_back_another(tmp_path, receiver):
    other = WebhookReceiver().start()
    receiver.answer = lambda _doc: "hang"
    channels = [webhook_channel(receiver.url, timeout_s=5), webhook_channel(other.url, name="other")]
    node = notifying_node(tmp_path, channels)
    try:
        started = time.monotonic()
        add_events(node, ["gate", "dock"], 3)
        wait_for(lambda: len(other.received) == 6, timeout=5, what="the other channel's six")
        assert time.monotonic() - started < 3 and receiver.received == []
    finally:
        node.stop()
        other.stop()
