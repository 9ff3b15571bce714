"""E-mail to an SMTP server on 127.0.0.1 (aiosmtpd) over STARTTLS and implicit TLS, with a certificate made in the
test: text and HTML, the snapshot attached, the notification id as Message-ID; a refusal fails for good."""

import email
import email.policy

import pytest

from support.node import wait_for
from support.notify import notifying_node
from support.receivers import SmtpReceiver

JPEG = b"\xff\xd8\xff\xe0" + b"snapshot" * 100 + b"\xff\xd9"


def email_channel(smtp, security, **over):
    channel = {
        "name": "mail",
        "kind": "email",
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": security,
        "ca_file": str(smtp.cert),
        "sender": "vigil@example.com",
        "to": ["guard@example.com", "chief@example.com"],
        "timeout_s": 5,
        "retry_initial_s": 0.2,
        "retry_max_s": 1.0,
    }
    return channel | over


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_an_event_arrives_as_mail_with_its_snapshot_over_tls(tmp_path, security):
    smtp = SmtpReceiver(tmp_path, security).start()
    node = notifying_node(tmp_path, [email_channel(smtp, security)], site={"name": "Head office"})
    try:
        shot = node.paths.snapshots / "gate" / "2026-11-30" / "1-a.jpg"
        shot.parent.mkdir(parents=True)
        shot.write_bytes(JPEG)
        now = node.clock.now_us()
        data = {"snapshot": "gate/2026-11-30/1-a.jpg", "labels": ["person"]}
        event_id = node.catalog.add_event(
            "line_cross", now, "A person crossed Gate", camera_id="gate", end_us=now, data=data, labels=["person"]
        )
        wait_for(lambda: smtp.messages, timeout=15, what="the mail")
        sender, rcpts, raw = smtp.messages[0]
        assert sender == "vigil@example.com" and rcpts == ["guard@example.com", "chief@example.com"]
        wait_for(lambda: node.outbox.list(state="delivered"), what="the attempt written")
        view = node.outbox.list()[0]
        assert view.notification.state == "delivered" and view.notification.event_id == event_id
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert msg["Message-ID"] == f"<{view.notification.id}@example.com>"
        assert msg["Subject"] == "[Head office] Line crossed: gate"
        text = msg.get_body(("plain",)).get_content()
        assert "A person crossed Gate" in text and "The snapshot is attached." in text
        assert "<h2>Line crossed: gate</h2>" in msg.get_body(("html",)).get_content()
        [attachment] = list(msg.iter_attachments())
        assert attachment.get_content_type() == "image/jpeg" and attachment.get_content() == JPEG
        stored = node.outbox.show(view.notification.id).notification.payload
        assert raw.rstrip(b"\r\n") == stored.rstrip(b"\r\n"), "exactly the stored message"
    finally:
        node.stop()
        smtp.stop()


def test_chinese_site_and_a_refusing_server(tmp_path):
    smtp = SmtpReceiver(tmp_path, "starttls").start()
    smtp.refuse = True
    node = notifying_node(tmp_path, [email_channel(smtp, "starttls")], site={"name": "总部", "language": "zh"})
    try:
        now = node.clock.now_us()
        node.catalog.add_event("camera_offline", now, "Camera gate offline", camera_id="gate")
        wait_for(lambda: node.outbox.list(state="failed"), timeout=15, what="refused for good")
        failed = node.outbox.list(state="failed")[0]
        assert failed.attempts[0].status == 550 and "550" in failed.notification.last_error
        smtp.refuse = False
        node.outbox.retry(failed.notification.id)
        wait_for(lambda: smtp.messages, timeout=15, what="the mail after retry")
        msg = email.message_from_bytes(smtp.messages[0][2], policy=email.policy.default)
        assert msg["Subject"] == "[总部] 摄像机离线: gate"
        text = msg.get_body(("plain",)).get_content()
        assert text.index("摄像机离线") < text.index("Camera offline"), "Chinese first, then English"
    finally:
        node.stop()
        smtp.stop()


def test_a_server_with_an_unknown_certificate_is_retried_with_a_clear_error(tmp_path):
    smtp = SmtpReceiver(tmp_path, "tls").start()
    node = notifying_node(tmp_path, [email_channel(smtp, "tls", ca_file=None)])
    try:
        now = node.clock.now_us()
        node.catalog.add_event("fault", now, "Picture black", camera_id="gate")
        wait_for(lambda: node.outbox.list()[0].attempts, timeout=15, what="an attempt")
        attempt = node.outbox.list()[0].attempts[0]
        assert attempt.outcome == "retry" and "CERTIFICATE_VERIFY_FAILED" in attempt.error
        assert smtp.messages == []
    finally:
        node.stop()
        smtp.stop()
