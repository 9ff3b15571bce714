"""Notifications as data and configuration: routes and severities, the back-off, how receivers' answers end an
attempt, the Standard Webhooks signature, the e-mail a notification becomes, and bad configuration."""

import email
import email.policy
import json

import pytest

from vigil.config import parse_config
from vigil.config.notifications import secret_from_env
from vigil.domain.errors import ConfigError
from vigil.domain.notifications import (
    Outcome,
    Route,
    Site,
    camera_state,
    event_document,
    event_severity,
    http_result,
    json_payload,
    retry_delay_s,
    routed_channels,
)
from vigil.domain.records import EventRecord
from vigil.notify.email_message import EmailFormat
from vigil.notify.mqtt import topics
from vigil.notify.service import NotificationService
from vigil.notify.webhook import signature, signing_key, verify
from vigil.ports import SystemClock

T0 = 1_764_000_000_000_000


def event(type_="line_cross", camera="gate", labels=("person",), zone="Gate", **data):
    return EventRecord(1, type_, camera, "sub", T0, T0, "A person crossed Gate", data, zone, tuple(labels), 0.8)


def test_severities_and_routes():
    assert [event_severity(t) for t in ("motion", "line_cross", "camera_offline", "storage_capacity", "x")] == [
        "info",
        "warning",
        "warning",
        "critical",
        "info",
    ]
    routes = [
        Route("people", labels=frozenset({"person"}), zones=frozenset({"Gate"})),
        Route("offline", types=frozenset({"camera_offline"}), cameras=frozenset({"gate"})),
        Route("serious", min_severity="warning"),
        Route("people", types=frozenset({"line_cross"})),  # a second route to the same channel: sent once
    ]
    assert routed_channels(routes, event(), "recorded") == ["people", "serious"]
    assert routed_channels(routes, event(labels=("car",)), "recorded") == ["serious", "people"]
    assert routed_channels(routes, event("motion", labels=()), "opened") == []
    assert routed_channels(routes, event("camera_offline", labels=()), "opened") == ["offline", "serious"]
    assert routed_channels(routes, event("camera_offline", labels=()), "closed") == [], "closed: only if asked"
    assert Route("all", changes=frozenset({"closed"})).matches(event(), "closed")


def test_camera_state_comes_from_offline_and_online_events():
    assert camera_state(event("camera_offline"), "opened") == "offline"
    assert camera_state(event("camera_offline"), "closed") == "online"
    assert camera_state(event("camera_online"), "recorded") == "online"
    assert camera_state(event("line_cross"), "recorded") is None
    assert camera_state(event("camera_offline", camera=None), "opened") is None


def test_back_off_doubles_with_jitter_and_is_capped():
    assert [retry_delay_s(n, 1, 300, 1.0) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert retry_delay_s(3, 1, 300, 0.0) == 2.0, "jitter takes off at most half"
    assert retry_delay_s(30, 1, 300, 1.0) == 300 and retry_delay_s(10_000, 1, 300, 0.5) == 225
    assert retry_delay_s(1, 1, 300, 1.0, retry_after_s=120) == 120, "the receiver's Retry-After"
    assert retry_delay_s(1, 1, 60, 1.0, retry_after_s=3600) == 60, "but never past the cap"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        *[(200, "delivered"), (204, "delivered"), (301, "retry"), (307, "retry"), (400, "failed"), (401, "retry")],
        *[(404, "retry"), (410, "failed"), (413, "failed"), (422, "failed"), (429, "retry"), (500, "retry")],
        (503, "retry"),
    ],
)
def test_http_answers(status, outcome):
    assert http_result(status).outcome == outcome


def test_redirects_and_retry_after_are_explained():
    moved = http_result(302, location="https://elsewhere.example/hook")
    assert "does not follow redirects" in moved.error and "https://elsewhere.example/hook" in moved.error
    assert http_result(429, retry_after="30").retry_after_s == 30
    assert http_result(503, retry_after="Wed, 21 Oct 2026 07:28:00 GMT").retry_after_s is None


def test_the_signature_is_standard_webhooks():
    """The example of the Standard Webhooks libraries' tests: a receiver using them verifies Vigil's webhooks."""
    key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    assert signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
    headers = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330"}
    headers["webhook-signature"] = "v1,bm90IGl0 " + signature(key, headers["webhook-id"], 1614265330, body)
    assert verify(key, headers, body, 1614265330 + 299)
    assert not verify(key, headers, body, 1614265330 + 301), "outside the replay window"
    assert not verify(key, headers, body + b" ", 1614265330), "a changed body"
    assert not verify(signing_key("another secret"), headers, body, 1614265330)
    assert signing_key("plain text secret") == b"plain text secret"
    with pytest.raises(ConfigError, match="base64"):
        signing_key("whsec_not base64!")


def test_documents_carry_the_id_and_hide_node_paths():
    site = Site("HQ", {"gate": "Main gate"}, "https://vigil.example/")
    doc = event_document("abc", T0, site, event(snapshot="gate/x.jpg", rule="Crossing"), "recorded")
    assert doc["id"] == "abc" and doc["kind"] == "event" and doc["site"] == "HQ"
    assert doc["event"]["camera"] == "Main gate" and doc["event"]["severity"] == "warning"
    assert doc["event"]["data"] == {"rule": "Crossing"} and doc["event"]["has_snapshot"]
    assert doc["event"]["snapshot_url"] == "https://vigil.example/api/v1/events/1/snapshot.jpg"
    assert json.loads(json_payload(doc)) == doc
    assert json_payload(doc) == json_payload(dict(reversed(list(doc.items())))), "one form of the bytes"


def test_mqtt_topics():
    assert topics("vigil", "event", "gate") == [("vigil/events", False), ("vigil/gate/events", False)]
    assert topics("vigil", "event", "") == [("vigil/events", False)]
    assert topics("site1/vigil", "camera_status", "gate") == [("site1/vigil/gate/status", True)]
    assert topics("vigil", "alarm", "gate") == [("vigil/alarms", False)]


def test_email_in_chinese_and_english_with_the_snapshot():
    fmt = EmailFormat("vigil@example.com", ["a@example.com"], "zh", "Asia/Shanghai", attach_snapshot=True)
    doc = event_document("n-1", T0, Site("总部", {"gate": "大门"}), event(), "recorded")
    raw = fmt.render(doc, b"\xff\xd8jpeg")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Message-ID"] == "<n-1@example.com>" and msg["Subject"] == "[总部] 越线: 大门"
    text = msg.get_body(("plain",)).get_content()
    assert "越线" in text and "Line crossed" in text and "2025-11-25 00:00:00 CST" in text
    assert [p.get_content_type() for p in msg.iter_attachments()] == ["image/jpeg"]
    assert fmt.render(doc, b"\xff\xd8jpeg") == raw, "the same document makes the same bytes"


def channel(**over):
    return {"name": "ops", "kind": "webhook", "url": "https://example.com/hook", "secret_env": "OPS_SECRET"} | over


def errors(notifications, cameras=()):
    doc = {"notifications": notifications}
    doc["cameras"] = [{"id": c, "name": c, "streams": {"main": {"url": "rtsp://10.0.0.1/s"}}} for c in cameras]
    with pytest.raises(ConfigError) as info:
        parse_config(doc, "vigil.yaml")
    return info.value.message


@pytest.mark.parametrize(
    ("notifications", "expected"),
    [
        ({"channels": [channel(bogus=1)]}, "notifications.channels[0].webhook.bogus: unknown key"),
        ({"channels": [channel(url="ftp://example.com/x")]}, "must start with http:// or https://"),
        ({"channels": [channel(url="https:///nohost")]}, "has no host"),
        ({"channels": [channel(url="https://user:pw@example.com/")]}, "must not hold a user name or password"),
        ({"channels": [channel(url="http://example.com:99999/")]}, "bad port"),
        ({"channels": [channel(secret_env="1-bad")]}, "secret_env"),
        ({"channels": [channel(), channel()]}, "channel name 'ops' is used twice"),
        ({"routes": [{"channel": "nope"}]}, "no channel named 'nope'"),
        ({"channels": [channel()], "routes": [{"channel": "ops", "types": ["linecross"]}]}, "unknown event type"),
        ({"channels": [channel()], "routes": [{"channel": "ops", "cameras": ["dock"]}]}, "no camera with id 'dock'"),
        ({"channels": [{"name": "m", "kind": "mqtt", "host": "h", "topic_prefix": "a/#"}]}, "without wildcards"),
        ({"channels": [{"name": "e", "kind": "email", "host": "h", "sender": "x", "to": ["a@b.c"]}]}, "not an e-mail"),
        (
            {"channels": [{"name": "e", "kind": "email", "host": "h", "sender": "a@b.c", "to": []}]},
            "notifications.channels[0].email.to",
        ),
        (
            {
                "channels": [
                    {
                        "name": "e",
                        "kind": "email",
                        "host": "h",
                        "sender": "a@b.c",
                        "to": ["a@b.c"],
                        "security": "none",
                        "username": "u",
                        "password_env": "P",
                    }
                ]
            },
            "would travel in clear",
        ),
        ({"channels": [channel(retry_initial_s=10, retry_max_s=5)]}, "retry_max_s"),
        ({"public_url": "vigil.example.com"}, "notifications.public_url: must be an http:// or https:// address"),
    ],
)
def test_bad_notification_config_is_refused_with_the_key(notifications, expected):
    assert expected in errors(notifications, cameras=["gate"])


def test_a_missing_secret_stops_the_node_with_a_clear_message(tmp_path):
    config = parse_config({"notifications": {"channels": [channel()]}})
    with pytest.raises(ConfigError, match="channel 'ops': environment variable OPS_SECRET is not set"):
        NotificationService.from_config(config, tmp_path, store=None, clock=SystemClock(), environ={})  # type: ignore[arg-type]
    mqtt = parse_config(
        {
            "notifications": {
                "channels": [{"name": "m", "kind": "mqtt", "host": "h", "tls": True, "ca_file": "missing.pem"}]
            }
        }
    )
    with pytest.raises(ConfigError, match="cannot read ca_file"):
        NotificationService.from_config(mqtt, tmp_path, store=None, clock=SystemClock(), environ={})  # type: ignore[arg-type]
    assert secret_from_env("ops", "X", {"X": "s3cret"}) == "s3cret"
    assert "s3cret" not in repr(parse_config({"notifications": {"channels": [channel()]}})), "only the name is kept"
    assert Outcome.RETRY == "retry"


def test_snapshots_are_read_only_from_their_folder(tmp_path):
    from vigil.notify.service import read_snapshot

    (tmp_path / "snaps" / "gate").mkdir(parents=True)
    (tmp_path / "snaps" / "gate" / "1.jpg").write_bytes(b"jpeg")
    (tmp_path / "secret.txt").write_text("no")
    assert read_snapshot(tmp_path / "snaps", "gate/1.jpg") == b"jpeg"
    assert read_snapshot(tmp_path / "snaps", "../secret.txt") is None
    assert read_snapshot(tmp_path / "snaps", "gate/gone.jpg") is None
