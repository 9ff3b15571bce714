"""Access control of the real API over a real SQLite catalog: every route asks who is calling; sessions, CSRF,
API tokens, roles and per-camera grants; every refusal and every look at footage is in the audit log."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from support.api import api_deps
from support.node import TEST_PASSWORD, logged_in, node_config
from vigil.api.app import create_app
from vigil.api.deps import ApiDeps, ClipFile
from vigil.domain.access import Action, Grant
from vigil.storage.catalog import SqlCatalog, sqlite_url

T0 = 1_764_000_000_000_000
S = 1_000_000


class FixedClock:
    def __init__(self) -> None:
        self.now = T0 + 3600 * S

    def now_us(self) -> int:
        return self.now


@dataclass
class Site:
    deps: ApiDeps
    app: object
    events: dict[str, int]

    def client(self, username: str, role: str, grants: list[Grant] | None = None) -> TestClient:
        accounts = self.deps.accounts
        if not any(u.username == username for u in accounts.users()):
            accounts.add_user(username, role, TEST_PASSWORD, must_change=False)
        if grants is not None:
            accounts.set_grants(username, grants)
        return logged_in(self.app, accounts, username, role)

    def audit(self, action: str) -> list:
        return self.deps.audit.entries(action=action, limit=1000)


def build(tmp_path: Path, **sections: object) -> Site:
    config, _ = node_config(
        tmp_path,
        {"yard": "file:///yard.mp4", "door": "file:///door.mp4"},
        **sections,
    )
    catalog = SqlCatalog(sqlite_url(tmp_path / "catalog.db"))
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(200))

    def make_clip(camera_id: str, stream: str, start_us: int, end_us: int, masks=()) -> ClipFile:
        return ClipFile(clip, start_us - 500_000)

    snapshots = tmp_path / "snapshots"
    (snapshots / "door").mkdir(parents=True)
    (snapshots / "door" / "1.jpg").write_bytes(b"\xff\xd8\xff\xe0 jpeg")
    deps = api_deps(config, catalog, tmp_path, FixedClock(), make_clip, snapshots=snapshots)
    add = catalog.add_event
    events = {
        "yard": add("zone_enter", T0, "A person entered zone 'Gate'", camera_id="yard", zone="Gate"),
        "door": add("line_cross", T0 + 10 * S, "A person crossed", camera_id="door", data={"snapshot": "door/1.jpg"}),
        "node": add("detector:down", T0 + 20 * S, "The object detector stopped"),
    }
    return Site(deps, create_app(deps), events)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = build(tmp_path)
    yield s
    s.deps.catalog.close()


def api_routes(app: object) -> list[tuple[str, str]]:
    """(method, path) of every documented route (all of the REST API)."""
    paths = app.openapi()["paths"]  # type: ignore[attr-defined]
    return [(method.upper(), path) for path, methods in paths.items() for method in methods]


def test_every_api_route_but_login_refuses_an_anonymous_caller(site: Site) -> None:
    anonymous = TestClient(site.app)
    routes = api_routes(site.app)
    assert len(routes) > 20
    for method, path in routes:
        if (method, path) in {("POST", "/api/v1/session"), ("GET", "/api/v1/openapi.json")}:
            continue
        url = path.replace("{camera_id}", "door").replace("{event_id}", "1").replace("{username}", "admin")
        response = anonymous.request(method, url + "?start=0&end=10", json={} if method != "GET" else None)
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.json()["error"]["kind"] == "unauthenticated"
    assert anonymous.get("/api/v1/events/1/snapshot.jpg").status_code == 401
    with pytest.raises(WebSocketDisconnect), anonymous.websocket_connect("/api/v1/cameras/door/live") as ws:
        ws.receive()


def test_login_sets_a_strict_httponly_cookie_and_is_audited(site: Site) -> None:
    site.deps.accounts.add_user("olga", "operator", TEST_PASSWORD, must_change=False)
    client = TestClient(site.app)
    response = client.post("/api/v1/session", json={"username": "olga", "password": TEST_PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert "vigil_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    me = client.get("/api/v1/me").json()
    assert (me["username"], me["role"]) == ("olga", "operator")
    assert [e.actor for e in site.audit("login")] == ["olga"]
    # logout ends the session on the server, not only in the browser
    token = client.cookies.get("vigil_session")
    assert client.delete("/api/v1/session", headers={"X-CSRF-Token": me["csrf_token"]}).status_code == 204
    replay = TestClient(site.app, cookies={"vigil_session": token})
    assert replay.get("/api/v1/me").status_code == 401
    assert [e.actor for e in site.audit("logout")] == ["olga"]


def test_failed_logins_are_audited_and_throttled(site: Site) -> None:
    site.deps.accounts.add_user("olga", "operator", TEST_PASSWORD, must_change=False)
    client = TestClient(site.app)
    for _ in range(5):
        bad = client.post("/api/v1/session", json={"username": "olga", "password": "wrong password!"})
        assert bad.status_code == 401 and bad.json()["error"]["message"] == "wrong user name or password"
    locked = client.post("/api/v1/session", json={"username": "olga", "password": TEST_PASSWORD})
    assert locked.status_code == 429
    failed = site.audit("login_failed")
    assert len(failed) == 6 and {e.actor for e in failed} == {"olga"} and failed[0].client == "testclient"
    unknown = client.post("/api/v1/session", json={"username": "nobody", "password": "whatever123"})
    assert unknown.status_code == 401 and unknown.json()["error"]["message"] == "wrong user name or password"


def test_a_planted_session_cookie_is_never_promoted_by_a_login(site: Site) -> None:
    site.deps.accounts.add_user("olga", "operator", TEST_PASSWORD, must_change=False)
    planted = "attacker-chosen-session-value"
    client = TestClient(site.app, cookies={"vigil_session": planted})
    assert client.get("/api/v1/me").status_code == 401
    login = client.post("/api/v1/session", json={"username": "olga", "password": TEST_PASSWORD})
    assert login.status_code == 200
    issued = login.cookies.get("vigil_session")
    assert issued not in (None, planted)
    attacker = TestClient(site.app, cookies={"vigil_session": planted})
    assert attacker.get("/api/v1/me").status_code == 401


def test_state_changing_cookie_requests_need_the_csrf_token_and_this_origin(site: Site) -> None:
    admin = site.client("admin", "admin")
    csrf = admin.headers.pop("X-CSRF-Token")
    body = {"username": "newbie", "role": "viewer"}
    missing = admin.post("/api/v1/users", json=body)
    assert missing.status_code == 403 and "CSRF" in missing.json()["error"]["message"]
    assert admin.post("/api/v1/users", json=body, headers={"X-CSRF-Token": "forged"}).status_code == 403
    cross = admin.post("/api/v1/users", json=body, headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"})
    assert cross.status_code == 403
    assert not any(u.username == "newbie" for u in site.deps.accounts.users())
    made = admin.post("/api/v1/users", json=body, headers={"X-CSRF-Token": csrf, "Origin": "http://testserver"})
    assert made.status_code == 201 and len(made.json()["password"]) >= 10
    # a login form posted from another site is refused too (login CSRF)
    assert (
        TestClient(site.app)
        .post(
            "/api/v1/session",
            json={"username": "admin", "password": TEST_PASSWORD},
            headers={"Origin": "https://evil.example"},
        )
        .status_code
        == 403
    )


def test_api_tokens_work_without_csrf_and_stop_when_revoked(site: Site) -> None:
    admin = site.client("admin", "admin")
    site.deps.accounts.add_user("nvr-bridge", "operator", TEST_PASSWORD, must_change=False)
    site.deps.accounts.set_grants("nvr-bridge", [Grant()])
    issued = admin.post("/api/v1/users/nvr-bridge/tokens", json={"name": "bridge"})
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert token.startswith("vgl_")
    bot = TestClient(site.app, headers={"Authorization": f"Bearer {token}"})
    assert bot.get("/api/v1/me").json()["username"] == "nvr-bridge"
    assert bot.put(f"/api/v1/events/{site.events['door']}/review").status_code == 204  # no CSRF for a token
    assert TestClient(site.app, headers={"Authorization": "Basic abc"}).get("/api/v1/me").status_code == 401
    assert admin.post("/api/v1/tokens/revoke", json={"token": token}).status_code == 204
    assert bot.get("/api/v1/me").status_code == 401
    changes = [e.detail.get("change") for e in site.audit("token_change")]
    assert changes == ["revoked", "issued"]
    assert all(token not in str(e.detail) for e in site.audit("token_change"))


def test_a_one_time_password_must_be_changed_before_anything_else(site: Site) -> None:
    password = site.deps.accounts.add_user("fresh", "operator")  # made up, must change
    client = TestClient(site.app)
    me = client.post("/api/v1/session", json={"username": "fresh", "password": password}).json()
    assert me["must_change_password"] is True
    client.headers["X-CSRF-Token"] = me["csrf_token"]
    refused = client.get("/api/v1/cameras")
    assert refused.status_code == 403 and "one-time password" in refused.json()["error"]["message"]
    assert client.get("/").headers.get("location", "") in ("", "/account")
    changed = client.post("/api/v1/me/password", json={"current": password, "new": "my own long password"})
    assert changed.status_code == 204
    assert client.get("/api/v1/me").status_code == 401, "changing the password ends the session"
    again = TestClient(site.app)
    me = again.post("/api/v1/session", json={"username": "fresh", "password": "my own long password"}).json()
    assert me["must_change_password"] is False
    assert [e.detail["how"] for e in site.audit("password_change")] == ["own"]


def test_a_viewer_sees_only_the_cameras_granted_and_every_refusal_is_audited(site: Site) -> None:
    viewer = site.client("vic", "viewer", [Grant(camera_id="door")])
    cams = viewer.get("/api/v1/cameras").json()["items"]
    assert [c["id"] for c in cams] == ["door"] and cams[0]["may"] == ["health", "live"]
    for url in (
        "/api/v1/cameras/yard",
        "/api/v1/cameras/yard/timeline?start=0&end=10",
        f"/api/v1/cameras/yard/clip.mp4?start={T0}&end={T0 + 10 * S}",
        f"/api/v1/cameras/door/clip.mp4?start={T0}&end={T0 + 10 * S}",  # live only: no playback
        f"/api/v1/cameras/door/segments?start={T0}&end={T0 + 10 * S}",
        "/api/v1/cameras/nowhere",  # unknown: the same refusal (existence is not told)
        "/api/v1/audit",
        "/api/v1/users",
    ):
        response = viewer.get(url)
        assert response.status_code == 403, url
        assert response.json()["error"]["kind"] == "forbidden"
    with pytest.raises(WebSocketDisconnect), viewer.websocket_connect("/api/v1/cameras/yard/live") as ws:
        ws.receive()
    denied = site.audit("access_denied")
    assert len(denied) == 9 and {e.actor for e in denied} == {"vic"}
    assert {e.camera_id for e in denied} >= {"yard", "door", "nowhere"}
    assert viewer.get("/api/v1/events").status_code == 403, "a viewer has no events"
    health = viewer.get("/api/v1/health").json()["items"]
    assert {h["camera_id"] for h in health} <= {"door"}


def test_an_operator_searches_events_only_on_granted_cameras(site: Site) -> None:
    operator = site.client("olga", "operator", [Grant(camera_id="door")])
    listed = [e["id"] for e in operator.get("/api/v1/events").json()["items"]]
    assert listed == [site.events["node"], site.events["door"]], "the yard's event is not shown"
    assert operator.get("/api/v1/events?camera=yard").status_code == 403
    assert operator.get(f"/api/v1/events/{site.events['yard']}").status_code == 403
    assert operator.get(f"/api/v1/events/{site.events['door']}").status_code == 200
    shot = operator.get(f"/api/v1/events/{site.events['door']}/snapshot.jpg")
    assert shot.status_code == 200 and shot.content.startswith(b"\xff\xd8")
    operator.get(f"/api/v1/events/{site.events['door']}/snapshot.jpg")
    views = site.audit("snapshot_view")
    assert len(views) == 1, "a redraw within 10 minutes is not written again"
    detail = {"event": site.events["door"], "masked": False}
    assert (views[0].actor, views[0].camera_id, views[0].detail) == ("olga", "door", detail)
    # review marks are per user
    assert operator.put(f"/api/v1/events/{site.events['door']}/review").status_code == 204
    mine = operator.get("/api/v1/events").json()["items"]
    assert [e["reviewed"] for e in mine] == [False, True]
    assert [e["id"] for e in operator.get("/api/v1/events?unreviewed=true").json()["items"]] == [site.events["node"]]
    admin = site.client("admin", "admin")
    assert not any(e["reviewed"] for e in admin.get("/api/v1/events").json()["items"])


def test_playback_and_export_are_audited_with_the_range_and_bounded_by_the_grant(site: Site) -> None:
    until = T0 + 60 * S
    operator = site.client("olga", "operator", [Grant(camera_id="door", history_until_us=until)])
    url = f"/api/v1/cameras/door/clip.mp4?start={T0}&end={T0 + 30 * S}"
    played = operator.get(url)
    assert played.status_code == 200 and played.headers["x-clip-start-us"] == str(T0 - 500_000)
    assert "inline" in played.headers["content-disposition"]
    operator.get(url, headers={"Range": "bytes=0-9"})  # the browser seeking: not written again
    exported = operator.get(url + "&download=true&reason=incident 42")
    assert "attachment" in exported.headers["content-disposition"]
    late = operator.get(f"/api/v1/cameras/door/clip.mp4?start={until - S}&end={until + 30 * S}")
    assert late.status_code == 403 and "time range" in late.json()["error"]["message"]
    plays, exports = site.audit("playback"), site.audit("export")
    assert len(plays) == 1 and (plays[0].range_start_us, plays[0].range_end_us) == (T0, T0 + 30 * S)
    assert (exports[0].reason, exports[0].camera_id, exports[0].actor) == ("incident 42", "door", "olga")


def test_a_site_can_require_a_reason_for_playback_and_export(tmp_path: Path) -> None:
    site = build(tmp_path, security={"require_reason_for": ["playback", "export"]})
    operator = site.client("olga", "operator", [Grant()])
    url = f"/api/v1/cameras/door/clip.mp4?start={T0}&end={T0 + 30 * S}"
    refused = operator.get(url)
    assert refused.status_code == 400 and "reason" in refused.json()["error"]["message"]
    assert operator.get(url + "&reason=%20%20").status_code == 400
    assert operator.get(url + "&reason=checking the gate").status_code == 200
    assert [e.reason for e in site.audit("playback")] == ["checking the gate"]
    site.deps.catalog.close()


def test_auditors_search_and_export_the_audit_log(site: Site) -> None:
    site.client("olga", "operator", [Grant()]).get("/api/v1/cameras/yard")
    auditor = site.client("audrey", "auditor")
    found = auditor.get("/api/v1/audit?action=login&limit=1")
    assert found.status_code == 200
    page = found.json()
    assert len(page["items"]) == 1 and page["next_cursor"] is not None
    rest = auditor.get(f"/api/v1/audit?action=login&limit=10&cursor={page['next_cursor']}").json()["items"]
    assert [e["actor"] for e in page["items"] + rest] == ["audrey", "olga"]
    assert auditor.get("/api/v1/audit?action=teleport").status_code == 400
    exported = auditor.get("/api/v1/audit/export?format=csv&actor=olga&reason=quarterly review")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "olga" in exported.text and "login" in exported.text
    assert [e.reason for e in site.audit("audit_export")] == ["quarterly review"]
    assert site.audit("audit_view")[0].actor == "audrey"
    assert auditor.get("/api/v1/cameras/yard/timeline?start=0&end=10").status_code == 403


def test_admins_manage_users_and_grants_and_every_change_is_audited(site: Site) -> None:
    admin = site.client("admin", "admin")
    made = admin.post("/api/v1/users", json={"username": "gina", "role": "viewer"}).json()
    assert made["username"] == "gina" and made["password"]
    grants = [{"camera_id": "door"}, {"site": "main", "actions": ["playback"], "history_from": "2026-01-01T00:00:00Z"}]
    assert admin.put("/api/v1/users/gina/grants", json=grants).status_code == 200
    gina = admin.get("/api/v1/users/gina").json()
    assert [g["camera_id"] for g in gina["grants"]] == ["door", None] and gina["grants"][1]["actions"] == ["playback"]
    bad = admin.put("/api/v1/users/gina/grants", json=[{"actions": ["fly"]}])
    assert bad.status_code == 400 and "fly" in bad.json()["error"]["message"]
    assert admin.put("/api/v1/users/gina/grants", json=[{"camera": "door"}]).status_code == 400, "unknown key"
    assert admin.patch("/api/v1/users/gina", json={"role": "operator"}).json()["role"] == "operator"
    assert admin.patch("/api/v1/users/admin", json={"disabled": True}).status_code == 400
    assert admin.post("/api/v1/users", json={"username": "gina", "role": "viewer"}).status_code == 409
    reset = admin.post("/api/v1/users/gina/password").json()
    assert len(reset["password"]) >= 10
    kinds = [(e.action, e.detail.get("user")) for e in site.deps.audit.entries(limit=100) if e.actor == "admin"]
    assert ("user_change", "gina") in kinds and ("permission_change", "gina") in kinds
    assert ("password_change", "gina") in kinds
    assert all(reset["password"] not in str(e.detail) for e in site.deps.audit.entries(limit=100))


def test_pages_send_strangers_to_the_login_and_refuse_roles_politely(site: Site) -> None:
    anonymous = TestClient(site.app, follow_redirects=False)
    response = anonymous.get("/events")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=%2Fevents"
    login = anonymous.get("/login")
    assert login.status_code == 200 and 'id="login-form"' in login.text
    for name, value in {
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
    }.items():
        assert login.headers[name] == value
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    viewer = site.client("vic", "viewer", [Grant(camera_id="door")])
    assert viewer.get("/").status_code == 200
    refused = viewer.get("/audit")
    assert refused.status_code == 403 and "audit log" in refused.text
    assert site.audit("access_denied")[0].detail == {"asked": "page /audit"}
    assert viewer.get("/api/v1/me").headers["cache-control"] == "no-store"


def test_pages_are_in_the_users_language(site: Site) -> None:
    chinese = TestClient(site.app, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "登录" in chinese.get("/login").text
    olga = site.client("olga", "operator", [Grant()])
    assert ">Events<" in olga.get("/events").text
    assert olga.patch("/api/v1/me", json={"language": "zh"}).status_code == 200
    assert "事件" in olga.get("/events").text
    assert olga.patch("/api/v1/me", json={"language": "fr"}).status_code == 400


def test_may_reports_what_a_role_allows(site: Site) -> None:
    auditor = site.client("audrey", "auditor")
    may = auditor.get("/api/v1/me").json()["may"]
    assert Action.AUDIT.value in may and Action.PLAYBACK.value not in may
