"""The outbox on a real SQLite catalog: notifications are written in the event's own transaction (or not at all),
each key's head in order, attempts recorded, retry and pruning; the admin API and the CLI over it."""

import json
import re
import sqlite3

import pytest

from support.api import api_deps
from support.node import logged_in, node_config
from vigil.api.app import create_app
from vigil.cli import main as cli_main
from vigil.domain.errors import InvalidRequest, NotFound, StorageError
from vigil.domain.notifications import Attempt, Route, Site
from vigil.notify.service import channel_plans
from vigil.storage.catalog import SqlCatalog, sqlite_url
from vigil.storage.outbox import SqlOutbox, outbox_hook
from vigil.usecases.notifications import NotificationRouter, Outbox

T0 = 1_764_000_000_000_000
S = 1_000_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def now_us(self) -> int:
        return self.now


def setup(tmp_path, routes=None):
    channels = [{"name": "hook", "kind": "webhook", "url": "https://example.com/h", "secret_env": "X"}]
    config, _ = node_config(
        tmp_path, {}, notifications={"channels": channels, "routes": routes or [{"channel": "hook"}]}
    )
    catalog = SqlCatalog(sqlite_url(tmp_path / "vigil.db"))
    clock = Clock()
    router = NotificationRouter(channel_plans(config), [Route("hook")], Site("HQ", {}), clock)
    catalog.event_hook = outbox_hook(router)
    store = SqlOutbox(catalog)
    return config, catalog, store, Outbox(store, router, clock), clock


def add(catalog, camera, n, start=T0):
    return [catalog.add_event("line_cross", start + k, f"#{k}", camera_id=camera, end_us=start + k) for k in range(n)]


def test_notifications_are_written_with_the_event_in_one_transaction(tmp_path):
    _, catalog, _store, outbox, _ = setup(tmp_path)
    ids = add(catalog, "gate", 2)
    rows = outbox.list()
    assert [v.notification.event_id for v in rows] == list(reversed(ids))
    assert all(v.notification.state == "pending" and v.notification.key == "gate" for v in rows)

    def broken(conn, event_id, change):
        conn.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")

    catalog.event_hook = broken  # the outbox cannot be written: neither is the event
    with pytest.raises(StorageError):
        add(catalog, "gate", 1)
    assert len(catalog.events(camera_id="gate")) == 2 and len(outbox.list()) == 2

    def buggy_router(record, change):
        raise RuntimeError("a bug in routing")

    catalog.event_hook = outbox_hook(buggy_router)  # a routing bug loses no event
    add(catalog, "gate", 1)
    assert len(catalog.events(camera_id="gate")) == 3 and len(outbox.list()) == 2
    catalog.close()


def test_heads_are_each_keys_oldest_pending_and_attempts_move_them_on(tmp_path):
    _, catalog, store, outbox, _ = setup(tmp_path)
    add(catalog, "gate", 3)
    add(catalog, "dock", 2)
    catalog.add_event("storage_capacity", T0, "node", end_us=T0)
    heads = store.heads("hook")
    assert [(h.key, h.payload is not None) for h in heads] == [("gate", True), ("dock", True), ("", True)]
    first = heads[0]
    second = store.next_pending("hook", "gate", first.seq)
    assert second.key == "gate" and second.seq > first.seq and second.payload is not None
    assert store.next_pending("hook", "dock", heads[1].seq).seq > heads[1].seq
    assert store.next_pending("hook", "", heads[2].seq) is None
    store.record_attempt(first.seq, Attempt(T0, "retry", 12.5, 500, "HTTP 500"), T0 + 5 * S)
    again = store.heads("hook")[0]
    assert (again.seq, again.attempts, again.next_attempt_us, again.last_error) == (
        first.seq,
        1,
        T0 + 5 * S,
        "HTTP 500",
    )
    store.record_attempt(first.seq, Attempt(T0 + 5 * S, "delivered", 3.0, 204), T0 + 5 * S)
    assert store.heads("hook")[0].seq > first.seq, "the next of the key"
    view = outbox.show(first.id)
    assert view.notification.state == "delivered" and view.notification.finished_us == T0 + 5 * S
    assert [(a.outcome, a.status) for a in view.attempts] == [("retry", 500), ("delivered", 204)]
    with pytest.raises(InvalidRequest, match="delivered already"):
        outbox.retry(first.id)
    with pytest.raises(NotFound):
        outbox.show("no-such-id")
    catalog.close()


def test_expiry_retry_and_pruning(tmp_path):
    _, catalog, store, outbox, clock = setup(tmp_path)
    add(catalog, "gate", 2)
    assert store.expire(T0 + 86400 * S - 1) == 0
    assert store.expire(T0 + 86400 * S) == 2
    expired = outbox.list(state="expired")
    assert len(expired) == 2 and expired[0].notification.last_error == "not delivered in time"
    clock.now = T0 + 100_000 * S
    again = outbox.retry(expired[0].notification.id)
    assert again.state == "pending" and again.next_attempt_us == clock.now and again.expires_us > clock.now
    store.record_attempt(again.seq, Attempt(clock.now, "failed", 1.0, 410, "gone"), clock.now)
    assert store.prune(clock.now) == 1, "the expired one finished before now"
    assert [v.notification.state for v in outbox.list()] == ["failed"]
    assert store.prune(clock.now + 1) == 1 and outbox.list() == []
    with sqlite3.connect(tmp_path / "vigil.db") as db:
        assert db.execute("SELECT count(*) FROM notification_attempts").fetchone() == (0,)
    catalog.close()


def test_enqueue_for_the_alarm_engine(tmp_path):
    _, catalog, store, outbox, _ = setup(tmp_path)
    woken = []
    outbox.wake = lambda: woken.append(1)
    nid = outbox.enqueue("hook", "alarm", {"title": "Intrusion", "text": "Gate", "alarm": {"priority": 1}}, key="gate")
    head = store.heads("hook")[0]
    doc = json.loads(head.payload)
    assert head.id == nid == doc["id"] and head.kind == "alarm" and head.key == "gate" and woken == [1]
    assert doc["alarm"] == {"priority": 1} and doc["title"] == "Intrusion" and doc["site"] == "HQ"
    with pytest.raises(NotFound, match="no notification channel named 'pager'"):
        outbox.enqueue("pager", "alarm", {})
    with pytest.raises(InvalidRequest, match="may not set id"):
        outbox.enqueue("hook", "alarm", {"id": "mine"})
    catalog.close()


def test_admins_see_notifications_with_attempts_page_by_page_and_retry_them(tmp_path):
    config, catalog, store, outbox, clock = setup(tmp_path)
    add(catalog, "gate", 3)
    first = store.heads("hook")[0]
    store.record_attempt(first.seq, Attempt(T0, "failed", 8.0, 410, "gone"), T0)
    deps = api_deps(config, catalog, tmp_path, clock, outbox=outbox)
    app = create_app(deps)
    admin = logged_in(app, deps.accounts)
    page = admin.get("/api/v1/notifications?limit=2").json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = admin.get(f"/api/v1/notifications?limit=2&cursor={page['next_cursor']}").json()
    assert [n["id"] for n in rest["items"]] == [first.id] and rest["next_cursor"] is None
    item = rest["items"][0]
    assert item["state"] == "failed" and item["camera_id"] == "gate" and item["attempts"][0]["status"] == 410
    assert admin.get("/api/v1/notifications?state=failed").json()["items"][0]["id"] == first.id
    assert admin.get("/api/v1/notifications?state=bogus").status_code == 400
    one = admin.get(f"/api/v1/notifications/{first.id}").json()
    assert json.loads(one["payload"])["id"] == first.id
    assert admin.get("/api/v1/notifications/nope").status_code == 404
    retried = admin.post(f"/api/v1/notifications/{first.id}/retry").json()
    assert retried["state"] == "pending" and retried["next_attempt"]
    [entry] = deps.audit.entries(action="notification_retry")
    assert entry.actor == "admin" and entry.detail["notification"] == first.id and entry.camera_id == "gate"
    viewer = logged_in(app, deps.accounts, "watcher", "viewer")
    assert viewer.get("/api/v1/notifications").status_code == 403
    assert viewer.post(f"/api/v1/notifications/{first.id}/retry").status_code == 403
    catalog.close()


def test_the_cli_lists_shows_and_retries(tmp_path, capsys):
    _, catalog, store, _, _ = setup(tmp_path)
    add(catalog, "gate", 2)
    first = store.heads("hook")[0]
    store.record_attempt(first.seq, Attempt(T0, "failed", 8.0, 410, "the receiver refused it for good (HTTP 410)"), T0)
    catalog.close()
    cfg = str(tmp_path / "vigil.yaml")
    assert cli_main(["-c", cfg, "notifications", "list"]) == 0
    out = capsys.readouterr().out
    assert first.id in out and "failed" in out and "HTTP 410" in out
    assert cli_main(["-c", cfg, "notifications", "show", first.id]) == 0
    out = capsys.readouterr().out
    assert re.search(r"failed\s+410", out) and f'"id": "{first.id}"' in out and "sha256" in out
    assert cli_main(["-c", cfg, "notifications", "retry", first.id]) == 0
    assert "pending again" in capsys.readouterr().out
    assert cli_main(["-c", cfg, "notifications", "list", "--state", "pending"]) == 0
    assert capsys.readouterr().out.count("pending") >= 2
    assert cli_main(["-c", cfg, "notifications", "show", "nope"]) == 2
    assert "no notification with id nope" in capsys.readouterr().err


def test_the_database_migrates_down_and_up(tmp_path):
    from alembic import command

    from vigil.storage.migrate import alembic_config

    url = sqlite_url(tmp_path / "m.db")
    SqlCatalog(url).close()
    command.downgrade(alembic_config(url), "0005")
    with sqlite3.connect(tmp_path / "m.db") as db, pytest.raises(sqlite3.OperationalError):
        db.execute("SELECT * FROM notifications")
    command.upgrade(alembic_config(url), "head")
    with sqlite3.connect(tmp_path / "m.db") as db:
        assert db.execute("SELECT count(*) FROM notification_attempts").fetchone() == (0,)
