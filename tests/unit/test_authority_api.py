"""Requests from authorities through the real API over a real recorded catalog: recorded and decided by admins,
fulfilled as a verifiable evidence package that holds the request among its records and places legal holds,
every step audited per camera; auditors list and report; everyone else is refused."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from support.api import api_deps
from support.footage import T0, S, SteppingClock, recorded_site
from support.node import TEST_PASSWORD, logged_in
from vigil.api.app import create_app
from vigil.cli import main as cli_main
from vigil.domain.timeutil import US_PER_DAY, iso_from_us
from vigil.media.synthetic import make_synthetic_clip
from vigil.storage.authority_requests import SqlAuthorityRequests
from vigil.usecases.authority_requests import AuthorityDesk
from vigil.verify_package import verify
from vigil.wiring import evidence_exporter

NOW = T0 + 2 * US_PER_DAY


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_synthetic_clip(tmp_path_factory.mktemp("clip") / "six.mp4", duration_s=6)


@pytest.fixture
def site(tmp_path: Path, clip: Path) -> Iterator[tuple[object, object, Path]]:
    recorded = recorded_site(tmp_path, clip, {"gate": {}, "door": {}})
    deps = api_deps(recorded.config, recorded.catalog, tmp_path, SteppingClock(NOW))
    exporter = evidence_exporter(
        lambda: recorded.config, recorded.paths, recorded.catalog, deps.store, deps.audit, deps.clock
    )
    desk = AuthorityDesk(
        SqlAuthorityRequests(recorded.catalog), deps.audit, deps.clock, lambda: recorded.config, exporter,
        tmp_path / "evidence",
    )  # fmt: skip
    deps = replace(deps, authority=desk, holds=exporter.tools.clerk.holds, register=exporter.tools.register)
    yield create_app(deps), deps, recorded.config_path
    recorded.catalog.close()


def client(site, name, role):
    app, deps, _ = site
    if not any(u.username == name for u in deps.accounts.users()):
        deps.accounts.add_user(name, role, TEST_PASSWORD, must_change=False)
    return logged_in(app, deps.accounts, name, role)


REQUEST = {
    "authority": "Pudong Public Security Bureau",
    "officer": "Officer Wang",
    "officer_id": "PS-10482",
    "legal_basis": "Criminal Procedure Law art. 54; warrant 2026-118",
    "reference": "PD-2026-118",
    "kind": "copy",
    "cameras": ["gate", "door"],
    "start": T0,
    "end": T0 + 5 * S,
    "deadline": iso_from_us(NOW + 3 * US_PER_DAY),
}


def test_a_request_is_recorded_approved_and_fulfilled_as_a_verifiable_package(site):
    _, deps, _ = site
    admin = client(site, "ana", "admin")
    made = admin.post("/api/v1/authority-requests", json=REQUEST)
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    assert made.json()["state"] == "received" and made.json()["request"]["recorded_by"] == "ana"
    early = admin.post(f"/api/v1/authority-requests/{rid}/fulfil")
    assert early.status_code == 409 and "is received: it cannot be fulfilled" in early.json()["error"]["message"]
    assert (
        admin.post(f"/api/v1/authority-requests/{rid}/approve", json={"reason": "warrant checked"}).status_code == 200
    )
    done = admin.post(f"/api/v1/authority-requests/{rid}/fulfil")
    assert done.status_code == 200, done.text
    request = done.json()["request"]
    assert done.json()["state"] == "fulfilled" and request["package_id"].startswith("ev-")
    package = deps.register.package(request["package_id"])
    assert package.recipient == "Pudong Public Security Bureau, Officer Wang, PS-10482"
    assert "authority request" in package.reason and "PD-2026-118" in package.reason
    report = verify(Path(package.path))
    assert report.ok, report.problems
    with zipfile.ZipFile(package.path) as z:
        kept = json.loads(z.read("records/authority_request.json"))
    assert kept["legal_basis"] == REQUEST["legal_basis"] and kept["camera_ids"] == ["gate", "door"]
    holds = deps.holds.holds(active_only=True)
    assert {h.camera_id for h in holds} == {"gate", "door"} and all(h.package_id == package.id for h in holds)
    steps = [(e.camera_id, e.detail["change"]) for e in reversed(deps.audit.entries(action="authority_request"))]
    assert steps == [(c, s) for s in ("received", "approved", "fulfilled") for c in ("gate", "door")]
    assert admin.post(f"/api/v1/authority-requests/{rid}/withdraw", json={"reason": "x"}).status_code == 409


def test_refusal_needs_a_reason_and_bad_requests_are_refused(site):
    admin = client(site, "ana", "admin")
    rid = admin.post("/api/v1/authority-requests", json=REQUEST).json()["id"]
    no_reason = admin.post(f"/api/v1/authority-requests/{rid}/refuse", json={})
    assert no_reason.status_code == 400 and "say why" in no_reason.json()["error"]["message"]
    refused = admin.post(f"/api/v1/authority-requests/{rid}/refuse", json={"reason": "the warrant names another site"})
    assert refused.json()["request"]["decision_reason"] == "the warrant names another site"
    for bad, message in [
        ({**REQUEST, "legal_basis": " "}, "legal_basis: required"),
        ({**REQUEST, "cameras": ["nope"]}, "no camera with id 'nope'"),
        ({**REQUEST, "kind": "borrow"}, "kind"),
        ({**REQUEST, "end": T0 - S}, "end of the range"),
        ({**REQUEST, "surprise": 1}, "surprise"),
    ]:
        answer = admin.post("/api/v1/authority-requests", json=bad)
        assert answer.status_code in (400, 404), bad
        assert message in answer.json()["error"]["message"]
    assert admin.get("/api/v1/authority-requests/999").status_code == 404


def test_who_may_do_what(site):
    admin = client(site, "ana", "admin")
    rid = admin.post("/api/v1/authority-requests", json=REQUEST).json()["id"]
    auditor = client(site, "aud", "auditor")
    assert [r["id"] for r in auditor.get("/api/v1/authority-requests").json()["items"]] == [rid]
    assert auditor.post(f"/api/v1/authority-requests/{rid}/approve", json={}).status_code == 403
    operator = client(site, "olga", "operator")
    assert operator.get("/api/v1/authority-requests").status_code == 403
    assert operator.post("/api/v1/authority-requests", json=REQUEST).status_code == 403


def test_the_report_of_a_period(site):
    _, deps, _ = site
    admin = client(site, "ana", "admin")
    first = admin.post("/api/v1/authority-requests", json=REQUEST).json()["id"]
    admin.post(
        "/api/v1/authority-requests",
        json={**REQUEST, "authority": "Shanghai Court", "received": iso_from_us(NOW - US_PER_DAY)},
    )
    admin.post("/api/v1/authority-requests", json={**REQUEST, "received": iso_from_us(NOW - 40 * US_PER_DAY)})  # before
    admin.post(f"/api/v1/authority-requests/{first}/approve", json={})
    auditor = client(site, "aud", "auditor")
    start, end = iso_from_us(NOW - 7 * US_PER_DAY), iso_from_us(NOW + US_PER_DAY)
    report = auditor.get(f"/api/v1/authority-requests/report?start={start}&end={end}").json()
    assert report["count"] == 2 and report["by_state"] == {"approved": 1, "received": 1}
    assert report["by_authority"] == {"Pudong Public Security Bureau": 1, "Shanghai Court": 1}
    text = auditor.get(f"/api/v1/authority-requests/report.csv?start={start}&end={end}")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert [r["authority"] for r in rows] == ["Shanghai Court", "Pudong Public Security Bureau"]  # oldest first
    assert any(e.detail.get("what") == "authority requests report" for e in deps.audit.entries(action="audit_export"))


def test_the_command_line(site, capsys):
    _, deps, config_path = site
    args = ["-c", str(config_path), "requests"]
    add = ["add", "--authority", "Jing'an PSB", "--officer", "Li", "--legal-basis", "art. 54", "--camera", "gate"]
    span = ["--start", iso_from_us(T0), "--end", iso_from_us(T0 + 4 * S), "--by", "ana"]
    assert cli_main([*args, *add, *span]) == 0
    (stored,) = deps.authority.requests()
    assert cli_main([*args, "approve", str(stored.id), "--by", "boss"]) == 0
    assert cli_main([*args, "fulfil", str(stored.id), "--by", "ana"]) == 0
    out = capsys.readouterr().out
    assert "fulfilled" in out and "evidence package ev-" in out
    assert cli_main([*args, "report", "--start", "2020-01-01T00:00:00Z", "--end", "2100-01-01T00:00:00Z"]) == 0
    assert "1 request(s) received" in capsys.readouterr().out
