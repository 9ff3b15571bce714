"""The live wall's groups on the real API and SQLite: kept per user, shared by admins, each user shown only the
cameras they may watch; bad groups refused."""

from pathlib import Path

import pytest

from support.api import api_deps
from support.node import TEST_PASSWORD, logged_in, node_config
from vigil.api.app import create_app
from vigil.domain.access import Grant
from vigil.storage.catalog import SqlCatalog, sqlite_url


class Clock:
    def now_us(self) -> int:
        return 1_764_000_000_000_000


@pytest.fixture
def site(tmp_path: Path):
    config, _ = node_config(tmp_path, {c: f"file:///{c}.mp4" for c in ("door", "yard", "gate")})
    catalog = SqlCatalog(sqlite_url(tmp_path / "catalog.db"))
    deps = api_deps(config, catalog, tmp_path, Clock())
    yield create_app(deps), deps
    catalog.close()


def client(site, name, role, grants=None):
    app, deps = site
    if not any(u.username == name for u in deps.accounts.users()):
        deps.accounts.add_user(name, role, TEST_PASSWORD, must_change=False)
    if grants is not None:
        deps.accounts.set_grants(name, grants)
    return logged_in(app, deps.accounts, name, role)


def test_groups_are_kept_per_user_in_order_and_replaced_by_name(site):
    olga = client(site, "olga", "operator", [Grant()])
    assert olga.put("/api/v1/wall/groups/Night", json={"cameras": ["yard", "door"], "layout": 4}).status_code == 200
    assert olga.put("/api/v1/wall/groups/Night", json={"cameras": ["gate", "yard"], "layout": 9}).status_code == 200
    (group,) = olga.get("/api/v1/wall/groups").json()["items"]
    assert (group["name"], group["cameras"], group["layout"], group["mine"]) == ("Night", ["gate", "yard"], 9, True)
    bob = client(site, "bob", "operator", [Grant()])
    assert bob.get("/api/v1/wall/groups").json()["items"] == []  # olga's own groups are hers
    assert olga.delete("/api/v1/wall/groups/Night").status_code == 204
    assert olga.get("/api/v1/wall/groups").json()["items"] == []
    assert olga.delete("/api/v1/wall/groups/Night").status_code == 404


def test_shared_groups_show_each_user_only_the_cameras_they_may_watch(site):
    admin = client(site, "ana", "admin")
    body = {"cameras": ["door", "yard", "gate"], "layout": 4, "shared": True}
    assert admin.put("/api/v1/wall/groups/Perimeter", json=body).status_code == 200
    vic = client(site, "vic", "viewer", [Grant(camera_id="yard")])
    (group,) = vic.get("/api/v1/wall/groups").json()["items"]
    assert group["cameras"] == ["yard"] and group["owner"] == "ana" and not group["mine"]
    nobody = client(site, "nat", "viewer", [Grant(camera_id="nowhere")])
    assert nobody.get("/api/v1/wall/groups").json()["items"] == []  # nothing of it to watch
    assert vic.delete("/api/v1/wall/groups/Perimeter?owner=ana").status_code == 403
    other_admin = client(site, "adam", "admin")
    assert other_admin.delete("/api/v1/wall/groups/Perimeter?owner=ana").status_code == 204
    assert admin.get("/api/v1/wall/groups").json()["items"] == []


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"cameras": ["door"], "layout": 5}, 400, "layout: one of 1, 4, 9, 16"),
        ({"cameras": []}, 400, "cameras: 1 to 64"),
        ({"cameras": ["door", "door"]}, 400, "listed twice"),
        ({"cameras": ["gate"]}, 400, "'gate' is not a camera you may watch"),
        ({"cameras": ["nope"]}, 400, "'nope' is not a camera you may watch"),
        ({"cameras": ["door"], "shared": True}, 403, "only an admin may share"),
        ({"cameras": ["door"], "colour": "red"}, 400, "colour"),
        ({"cameras": "door"}, 400, "cameras"),
    ],
)
def test_bad_groups_are_refused(site, body, status, message):
    vic = client(site, "vic", "viewer", [Grant(camera_id="door")])
    answer = vic.put("/api/v1/wall/groups/Mine", json=body)
    assert answer.status_code == status and message in answer.json()["error"]["message"]
    assert vic.get("/api/v1/wall/groups").json()["items"] == []


def test_a_name_that_is_blank_or_too_long_is_refused(site):
    vic = client(site, "vic", "viewer", [Grant()])
    assert vic.put("/api/v1/wall/groups/%20%20", json={"cameras": ["door"]}).status_code == 400
    assert vic.put("/api/v1/wall/groups/" + "x" * 101, json={"cameras": ["door"]}).status_code == 400
    assert vic.put("/api/v1/wall/groups/门口 夜班", json={"cameras": ["door"]}).status_code == 200
