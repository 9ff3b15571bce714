"""The settings API over a real vigil.yaml, a real SQLite catalog and audit log: admins only (refusals audited),
passwords never sent, bad bodies refused with one error shape, stale revisions refused, a node started without
a file says so."""

from pathlib import Path

import pytest
import yaml

from support.api import api_deps
from support.node import TEST_PASSWORD, logged_in, node_config
from vigil.api.app import create_app
from vigil.storage.catalog import SqlCatalog, sqlite_url


class Clock:
    def now_us(self) -> int:
        return 1_764_000_000_000_000


@pytest.fixture
def site(tmp_path: Path):
    config, path = node_config(tmp_path, {"door": "rtsp://admin:s3cret@10.0.0.5/s1"})
    catalog = SqlCatalog(sqlite_url(tmp_path / "catalog.db"))
    deps = api_deps(config, catalog, tmp_path, Clock(), config_file=path)
    app = create_app(deps)
    yield app, deps, path
    catalog.close()


def client(app, deps, name, role):
    if not any(u.username == name for u in deps.accounts.users()):
        deps.accounts.add_user(name, role, TEST_PASSWORD, must_change=False)
    return logged_in(app, deps.accounts, name, role)


def test_admins_read_and_change_cameras_without_ever_seeing_a_password(site):
    app, deps, path = site
    admin = client(app, deps, "ana", "admin")
    settings = admin.get("/api/v1/settings")
    assert settings.status_code == 200
    assert "s3cret" not in settings.text
    body = settings.json()
    assert body["cameras"][0]["streams"]["main"]["url"] == "rtsp://admin:***@10.0.0.5/s1"
    assert body["problem"] is None and body["restart_pending"] == []
    door = admin.get("/api/v1/settings/cameras/door").json()
    door["camera"]["location"] = "Back door"
    saved = admin.put("/api/v1/settings/cameras/door", json={**door, "reason": "moved"})
    assert saved.status_code == 200 and "s3cret" not in saved.text
    assert saved.json()["revision"] != door["revision"]
    on_disk = yaml.safe_load(path.read_text())["cameras"][0]
    assert on_disk["streams"]["main"]["url"] == "rtsp://admin:s3cret@10.0.0.5/s1"
    assert deps.config.camera("door").location == "Back door"  # in force for the API at once
    assert admin.get("/api/v1/cameras/door").json()["location"] == "Back door"


def test_a_stale_revision_is_409_and_bad_bodies_are_400(site):
    app, deps, _ = site
    admin = client(app, deps, "ana", "admin")
    door = admin.get("/api/v1/settings/cameras/door").json()
    assert (
        admin.put("/api/v1/settings/cameras/door", json={"camera": {**door["camera"], "name": "A"}}).status_code == 200
    )
    stale = admin.put("/api/v1/settings/cameras/door", json={**door, "camera": {**door["camera"], "name": "B"}})
    assert stale.status_code == 409 and stale.json()["error"]["kind"] == "conflict"
    for body, expected in [
        ({"camera": "not a mapping"}, "camera"),
        ({"camera": {}, "extra": 1}, "extra"),
        ({"camera": {"name": "X", "streams": {"main": {"url": "ftp://x/y"}}}}, "streams.main.url: must start with"),
        (
            {"camera": {"name": "X", "streams": {"main": {"url": "rtsp://h/s"}}, "retention": {"max_age_days": -1}}},
            "retention.max_age_days",
        ),
    ]:
        answer = admin.put("/api/v1/settings/cameras/new", json=body)
        assert answer.status_code == 400, body
        assert expected in answer.json()["error"]["message"]
    assert (
        admin.put(
            "/api/v1/settings/cameras/door", content=b"{not json", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert admin.get("/api/v1/settings/cameras/nope").status_code == 404
    assert admin.delete("/api/v1/settings/cameras/nope").status_code == 404


def test_everyone_but_admins_is_refused_and_the_refusal_audited(site):
    app, deps, _ = site
    for name, role in (("olga", "operator"), ("vic", "viewer"), ("aud", "auditor")):
        c = client(app, deps, name, role)
        assert c.get("/api/v1/settings").status_code == 403
        assert c.put("/api/v1/settings/cameras/door", json={"camera": {}}).status_code == 403
        assert c.delete("/api/v1/settings/cameras/door").status_code == 403
        refused = deps.audit.entries(action="access_denied", actor=name)
        assert {e.detail["asked"] for e in refused} == {"see the settings", "change the settings"}


def test_a_change_needs_the_csrf_token(site):
    app, deps, _ = site
    admin = client(app, deps, "ana", "admin")
    del admin.headers["X-CSRF-Token"]
    assert admin.delete("/api/v1/settings/cameras/door").status_code == 403
    assert deps.config.camera("door") is not None


def test_a_node_without_a_file_says_its_settings_cannot_change(tmp_path):
    config, _ = node_config(tmp_path, {"door": "rtsp://10.0.0.5/s1"})
    catalog = SqlCatalog(sqlite_url(tmp_path / "catalog.db"))
    try:
        deps = api_deps(config, catalog, tmp_path, Clock())
        admin = client(create_app(deps), deps, "ana", "admin")
        answer = admin.get("/api/v1/settings")
        assert answer.status_code == 409 and "without a configuration file" in answer.json()["error"]["message"]
    finally:
        catalog.close()
