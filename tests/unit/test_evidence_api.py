"""The evidence and legal-hold API over a real recorded catalog: export permission per camera (and events for
their records), reasons, downloads audited, holds for admins only, and the purpose limit that only a hold opens."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from support.api import api_deps
from support.footage import T0, S, SteppingClock, recorded_site
from support.node import TEST_PASSWORD, logged_in
from vigil.api.app import create_app
from vigil.api.deps import ApiDeps, ClipFile
from vigil.domain.access import Action, Grant
from vigil.domain.timeutil import US_PER_DAY
from vigil.media.synthetic import make_synthetic_clip
from vigil.verify_package import verify
from vigil.wiring import evidence_exporter

NOW = T0 + 3 * US_PER_DAY


@pytest.fixture(scope="module")
def six_seconds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_synthetic_clip(tmp_path_factory.mktemp("clip") / "six.mp4", duration_s=6)


@dataclass
class Site:
    deps: ApiDeps
    app: object

    def client(self, username: str, role: str, grants: list[Grant] | None = None) -> TestClient:
        accounts = self.deps.accounts
        if not any(u.username == username for u in accounts.users()):
            accounts.add_user(username, role, TEST_PASSWORD, must_change=False)
        if grants is not None:
            accounts.set_grants(username, grants)
        return logged_in(self.app, accounts, username, role)

    def audit(self, action: str) -> list:
        return self.deps.audit.entries(action=action, limit=1000)


@pytest.fixture
def site(tmp_path: Path, six_seconds: Path) -> Iterator[Site]:
    cameras = {"gate": {}, "door": {"purpose": {"max_view_age_days": 1}}}
    recorded = recorded_site(tmp_path, six_seconds, cameras, security={"require_reason_for": ["export"]})
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(200))

    def make_clip(camera_id: str, stream: str, start_us: int, end_us: int, masks=()) -> ClipFile:
        return ClipFile(clip, start_us)

    deps = api_deps(recorded.config, recorded.catalog, tmp_path, SteppingClock(NOW), make_clip)
    exporter = evidence_exporter(
        lambda: recorded.config, recorded.paths, recorded.catalog, deps.store, deps.audit, deps.clock
    )
    tools = exporter.tools
    deps = replace(
        deps, holds=tools.clerk.holds, evidence=exporter, register=tools.register, evidence_dir=tmp_path / "evidence"
    )
    yield Site(deps, create_app(deps))
    recorded.catalog.close()


def body(cameras: list[str], **extra: object) -> dict:
    return {"cameras": cameras, "start": T0, "end": T0 + 5 * S, "reason": "case 77", "recipient": "PC Smith", **extra}


def test_an_operator_exports_a_package_of_the_cameras_granted_and_downloads_it(site: Site, tmp_path: Path) -> None:
    operator = site.client("olga", "operator", [Grant(camera_id="gate")])
    made = operator.post("/api/v1/evidence", json=body(["gate"]))
    assert made.status_code == 201, made.text
    package = made.json()
    assert package["cameras"] == ["gate"] and package["requested_by"] == "olga" and package["gap_count"] == 0
    assert operator.post("/api/v1/evidence", json=body(["door"])).status_code == 403
    assert operator.post("/api/v1/evidence", json=body(["gate"], reason="")).status_code == 400
    assert operator.post("/api/v1/evidence", json=body(["gate"], recipient="  ")).status_code == 400
    assert operator.post("/api/v1/evidence", json=body(["gate"], extra=1)).status_code == 400
    listed = operator.get("/api/v1/evidence").json()["items"]
    assert [p["id"] for p in listed] == [package["id"]]
    refused = operator.get(package["download_url"])
    assert refused.status_code == 400 and "reason" in refused.json()["error"]["message"], "the site requires one"
    got = operator.get(package["download_url"] + "?reason=to the police")
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    saved = tmp_path / "downloaded.zip"
    saved.write_bytes(got.content)
    report = verify(saved, package["key_fingerprint"])
    assert report.ok and report.manifest["request"]["requested_by"] == "olga"
    with zipfile.ZipFile(saved) as zf:
        assert any(n.startswith("clips/gate/") for n in zf.namelist())
    exports = site.audit("export")
    assert [(e.actor, e.camera_id, e.detail["what"], e.reason) for e in exports] == [
        ("olga", "gate", "evidence package download", "to the police"),
        ("olga", "gate", "evidence package", "case 77"),
    ]
    assert [e.camera_id for e in site.audit("access_denied")] == ["door"]
    holds = site.deps.holds.active() if site.deps.holds else []
    assert [(h.camera_id, h.package_id) for h in holds] == [("gate", package["id"])]


def test_exporting_events_needs_the_events_action_too(site: Site) -> None:
    auditor = site.client("audrey", "auditor", [Grant(camera_id="gate", actions=frozenset({Action.EXPORT}))])
    assert auditor.post("/api/v1/evidence", json=body(["gate"])).status_code == 403
    made = auditor.post("/api/v1/evidence", json=body(["gate"], include_events=False))
    assert made.status_code == 201, made.text
    viewer = site.client("vic", "viewer", [Grant()])
    assert viewer.post("/api/v1/evidence", json=body(["gate"])).status_code == 403
    assert viewer.get(f"/api/v1/evidence/{made.json()['id']}").status_code == 403


def test_admins_place_and_lift_holds_auditors_list_them_and_both_acts_are_audited(site: Site) -> None:
    admin = site.client("admin", "admin")
    hold = {"camera": "door", "start": T0, "end": T0 + 4 * S, "reason": "court order 12"}
    operator = site.client("olga", "operator", [Grant()])
    assert operator.post("/api/v1/holds", json=hold).status_code == 403
    placed = admin.post("/api/v1/holds", json=hold)
    assert placed.status_code == 201 and placed.json()["active"] is True
    hold_id = placed.json()["id"]
    assert admin.post("/api/v1/holds", json={**hold, "camera": "nowhere"}).status_code == 404
    assert admin.post("/api/v1/holds", json={**hold, "end": T0}).status_code == 400
    auditor = site.client("audrey", "auditor")
    assert [h["id"] for h in auditor.get("/api/v1/holds").json()["items"]] == [hold_id]
    assert operator.get("/api/v1/holds").status_code == 403
    assert operator.post(f"/api/v1/holds/{hold_id}/lift", json={"reason": "x"}).status_code == 403
    lifted = admin.post(f"/api/v1/holds/{hold_id}/lift", json={"reason": "order expired"})
    assert lifted.status_code == 200 and lifted.json()["lifted_by"] == "admin"
    assert admin.post(f"/api/v1/holds/{hold_id}/lift", json={"reason": "again"}).status_code == 409
    assert auditor.get("/api/v1/holds").json()["items"] == []
    assert len(auditor.get("/api/v1/holds?active=false").json()["items"]) == 1
    changes = [(e.actor, e.detail["change"], e.reason) for e in site.audit("legal_hold")]
    assert changes == [("admin", "lifted", "order expired"), ("admin", "placed", "court order 12")]


def test_footage_past_its_purpose_is_closed_to_everyone_until_a_hold_opens_it(site: Site) -> None:
    admin = site.client("admin", "admin")
    operator = site.client("olga", "operator", [Grant()])
    door = f"/api/v1/cameras/door/clip.mp4?start={T0}&end={T0 + 4 * S}"
    for who in (operator, admin):
        refused = who.get(door)
        assert refused.status_code == 403 and "legal hold" in refused.json()["error"]["message"]
    assert operator.get(f"/api/v1/cameras/door/segments?start={T0}&end={T0 + 4 * S}").status_code == 403
    assert operator.post("/api/v1/evidence", json=body(["door"])).status_code == 403
    assert operator.get(f"/api/v1/cameras/gate/clip.mp4?start={T0}&end={T0 + 4 * S}").status_code == 200
    denied = site.audit("access_denied")
    assert len(denied) == 4 and all("purpose" in e.detail["asked"] for e in denied)
    admin.post("/api/v1/holds", json={"camera": "door", "start": T0, "end": T0 + 2 * S, "reason": "order 1"})
    assert operator.get(door).status_code == 403, "the hold covers only part of the range"
    admin.post("/api/v1/holds", json={"camera": "door", "start": T0 + 2 * S, "end": T0 + 5 * S, "reason": "order 2"})
    assert operator.get(door).status_code == 200
    made = operator.post("/api/v1/evidence", json=body(["door"]))
    assert made.status_code == 201, made.text


def test_an_old_events_snapshot_is_closed_by_the_purpose_limit_too(site: Site, tmp_path: Path) -> None:
    shots = tmp_path / "snapshots"
    (shots / "door").mkdir(parents=True)
    (shots / "door" / "1.jpg").write_bytes(b"\xff\xd8\xff\xe0 jpeg")
    deps = replace(site.deps, snapshots=shots)
    site = Site(deps, create_app(deps))
    event = deps.catalog.add_event("motion", T0 + S, "Motion", camera_id="door", data={"snapshot": "door/1.jpg"})
    operator = site.client("olga", "operator", [Grant()])
    url = f"/api/v1/events/{event}/snapshot.jpg"
    refused = operator.get(url)
    assert refused.status_code == 403 and "legal hold" in refused.json()["error"]["message"]
    assert operator.get(f"/api/v1/events/{event}").status_code == 200, "what happened is still listed"
    admin = site.client("admin", "admin")
    admin.post("/api/v1/holds", json={"camera": "door", "start": T0, "end": T0 + 2 * S, "reason": "order 3"})
    assert operator.get(url).status_code == 200
