"""The alarms, incidents and plans API on a real (unstarted) node and SQLite: the queue and one alarm, acknowledge,
assign, resolve, refusals by camera grant and bad bodies (one error shape), suppressions, an incident opened from an
alarm with its plan's checklist ticked, notes and corrections, closing, the report as HTML and as PDF (read back
with pypdf), the incident's evidence package with its records, and the plans editor refusing a malformed plan."""

import io
import json
import zipfile

import pytest
import yaml

from support.node import logged_in
from vigil.config.loader import parse_config
from vigil.domain.access import Grant
from vigil.runtime import Vigil

ALARMS = {
    "rules": [{"name": "Intrusion", "types": ["zone_enter"], "priority": 1}],
    "escalation": {"deadlines_s": {1: 30}},
}


@pytest.fixture
def node(tmp_path):
    doc = {
        "storage": {"root": "recordings", "min_retention_days": 0},
        "analysis": {"enabled": False},
        "site": {"name": "Harbour", "timezone": "Asia/Shanghai"},
        "cameras": [
            {"id": cid, "name": cid.title(), "enabled": False, "streams": {"main": {"url": f"rtsp://10.0.0.{k}/1"}}}
            for k, cid in enumerate(["gate", "yard"], start=5)
        ],
        "alarms": ALARMS,
    }
    (tmp_path / "vigil.yaml").write_text(yaml.safe_dump(doc))
    vigil = Vigil(parse_config(doc), tmp_path)
    yield vigil
    vigil.catalog.close()


def raise_alarm(node, camera="gate"):
    now = node.clock.now_us()
    eid = node.catalog.add_event(
        "zone_enter", now, f"A person entered zone 'Dock' at {camera}", camera_id=camera, end_us=now, zone="Dock"
    )
    return node.alarm_engine.handle(node.catalog.event(eid))


def test_the_alarm_queue_and_the_life_cycle_over_the_api(node):
    admin = logged_in(node.app(), node.accounts)
    low = raise_alarm(node, "yard")
    high = raise_alarm(node, "gate")
    page = admin.get("/api/v1/alarms").json()
    assert [a["id"] for a in page["items"]] == [low.id, high.id] and page["next_cursor"] is None
    one = admin.get(f"/api/v1/alarms/{high.id}").json()
    assert one["alarm"]["state"] == "new" and one["history"][0]["change"] == "raised"
    assert one["events"][0]["id"] == high.first_event_id
    acked = admin.post(f"/api/v1/alarms/{high.id}/acknowledge").json()
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == "admin"
    again = admin.post(f"/api/v1/alarms/{high.id}/acknowledge")
    assert again.status_code == 409 and again.json()["error"]["kind"] == "conflict"
    bad = admin.post(f"/api/v1/alarms/{high.id}/resolve", json={"outcome": "maybe"})
    assert bad.status_code == 400 and "outcome" in bad.json()["error"]["message"]
    extra = admin.post(f"/api/v1/alarms/{high.id}/resolve", json={"outcome": "real", "colour": "red"})
    assert extra.status_code == 400
    assert admin.post(f"/api/v1/alarms/{high.id}/assign", json={"to": "nobody"}).status_code == 400
    done = admin.post(f"/api/v1/alarms/{high.id}/resolve", json={"outcome": "false_alarm", "note": "a fox"}).json()
    assert done["state"] == "resolved" and done["outcome"] == "false_alarm"
    assert [a["id"] for a in admin.get("/api/v1/alarms").json()["items"]] == [low.id]
    history = admin.get("/api/v1/alarms?state=resolved&order=newest").json()["items"]
    assert [a["id"] for a in history] == [high.id]
    assert admin.get("/api/v1/alarms?state=sleeping").status_code == 400
    assert admin.get("/api/v1/alarms/999").status_code == 404
    assert admin.get("/api/v1/alarms?limit=1").json()["next_cursor"] == "1"


def test_an_operator_sees_and_handles_only_the_alarms_of_granted_cameras(node):
    node.accounts.add_user("olga", "operator", "correct horse battery", must_change=False)
    node.accounts.set_grants("olga", [Grant(camera_id="gate")])
    node.accounts.add_user("vera", "viewer", "correct horse battery", must_change=False)
    olga = logged_in(node.app(), node.accounts, "olga")
    gate, yard = raise_alarm(node, "gate"), raise_alarm(node, "yard")
    assert [a["id"] for a in olga.get("/api/v1/alarms").json()["items"]] == [gate.id]
    assert olga.post(f"/api/v1/alarms/{yard.id}/acknowledge").status_code == 403
    assert olga.post(f"/api/v1/alarms/{gate.id}/acknowledge").status_code == 200
    refused = olga.post("/api/v1/suppressions", json={"kind": "disarm", "reason": "all of them"})
    assert refused.status_code == 403, "suppressing every camera is an admin's"
    placed = olga.post("/api/v1/suppressions", json={"kind": "maintenance", "cameras": ["gate"], "reason": "lens"})
    assert placed.status_code == 201 and placed.json()["cameras"] == ["gate"]
    assert raise_alarm(node, "gate").id == gate.id, "folded into the open alarm"
    olga.post(f"/api/v1/alarms/{gate.id}/resolve", json={"outcome": "test"})
    assert raise_alarm(node, "gate").state == "suppressed"
    assert [s["id"] for s in olga.get("/api/v1/suppressions").json()["items"]] == [placed.json()["id"]]
    lifted = olga.post(f"/api/v1/suppressions/{placed.json()['id']}/lift", json={"reason": "done"})
    assert lifted.status_code == 200 and lifted.json()["lifted_by"] == "olga"
    assert olga.get("/api/v1/suppressions").json()["items"] == []
    vera = logged_in(node.app(), node.accounts, "vera")
    assert vera.get("/api/v1/alarms").status_code == 403
    entries = node.audit.entries(action="alarm_suppression")
    assert [e.detail["change"] for e in entries] == ["lifted", "placed"]


def test_an_incident_from_an_alarm_with_its_checklist_notes_report_and_evidence(node, tmp_path):
    admin = logged_in(node.app(), node.accounts)
    alarm = raise_alarm(node, "gate")
    made = admin.post(
        "/api/v1/incidents",
        json={"type": "intrusion", "title": "Someone at the dock", "place": "North dock", "alarms": [alarm.id]},
    )
    assert made.status_code == 201, made.text
    inc = made.json()
    iid = inc["incident"]["id"]
    assert inc["incident"]["severity"] == "high" and inc["incident"]["plan_title"] == "Intrusion"
    assert [s["status"] for s in inc["checklist"]] == ["open"] * 4 and inc["cameras"] == ["gate"]
    assert node.alarm_desk.store.alarm(alarm.id).incident_id == iid
    assert inc["incident"]["durations_s"]["to_acknowledge_s"] is not None
    step = admin.post(f"/api/v1/incidents/{iid}/checklist/0", json={"note": "seen on camera"}).json()
    assert step["status"] == "done" and step["by"] == "admin"
    assert admin.post(f"/api/v1/incidents/{iid}/checklist/0", json={}).status_code == 409
    assert admin.post(f"/api/v1/incidents/{iid}/checklist/9", json={}).status_code == 400
    assert admin.post(f"/api/v1/incidents/{iid}/checklist/1", json={"status": "maybe"}).status_code == 400
    admin.post(f"/api/v1/incidents/{iid}/checklist/1", json={"status": "skipped", "note": "guard was there"})
    first = admin.post(f"/api/v1/incidents/{iid}/notes", json={"text": "Man in a red coat"}).json()
    fix = admin.post(f"/api/v1/incidents/{iid}/notes", json={"text": "The coat was orange", "corrects": first["id"]})
    assert fix.status_code == 201 and fix.json()["corrects"] == first["id"]
    assert admin.post(f"/api/v1/incidents/{iid}/notes", json={"text": "x", "corrects": 999}).status_code == 400
    assert admin.post(f"/api/v1/incidents/{iid}/notes", json={"text": ""}).status_code == 400
    assert admin.put(f"/api/v1/incidents/{iid}/people", json={"users": ["admin"]}).json()["assigned"] == ["admin"]
    with pytest.raises(Exception, match="append-only"), node.catalog._write() as conn:  # not even in SQL
        conn.exec_driver_sql("UPDATE incident_notes SET text = 'changed'")
    package = admin.post(f"/api/v1/incidents/{iid}/evidence", json={"reason": "police request", "recipient": "PC Li"})
    assert package.status_code == 201, package.text
    pid = package.json()["id"]
    with zipfile.ZipFile(node.paths.evidence / f"{pid}.zip") as z:
        names = z.namelist()
        records = json.loads(z.read("records/incident.json"))
        checklist = json.loads(z.read("records/checklist.json"))
    assert {"records/alarms.json", "records/notes.json", "manifest.json", "manifest.sig"} <= set(names)
    assert records["id"] == iid and checklist[0]["status"] == "done" and checklist[1]["status"] == "skipped"
    closed = admin.post(f"/api/v1/incidents/{iid}/close", json={"outcome": "Intruder left; police told"}).json()
    assert closed["state"] == "closed" and closed["durations_s"]["to_close_s"] is not None
    assert admin.post(f"/api/v1/incidents/{iid}/notes", json={"text": "Police called back"}).status_code == 201
    assert admin.post(f"/api/v1/incidents/{iid}/checklist/2", json={}).status_code == 409, "closed"
    detail = admin.get(f"/api/v1/incidents/{iid}").json()
    whats = [t["what"] for t in detail["timeline"]]
    assert "opened" in whats and f"alarm {alarm.id} raised" in whats and "step 1 done" in whats and "closed" in whats
    assert detail["evidence"] == [pid]
    html = admin.get(f"/api/v1/incidents/{iid}/report.html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    for text in ("Someone at the dock", "Man in a red coat", "The coat was orange", "guard was there", pid):
        assert text in html.text
    pdf = admin.get(f"/api/v1/incidents/{iid}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for words in ("Incident report", "Someone at the dock", "Time to close", "Intruder left", "PC Li", "skipped"):
        assert words in text, words
    assert admin.get(f"/api/v1/incidents/{iid}/report.docx").status_code == 404
    assert [i["id"] for i in admin.get("/api/v1/incidents?state=closed").json()["items"]] == [iid]
    audited = [e.detail["change"] for e in node.audit.entries(action="incident", limit=100)]
    assert {"opened", "step", "note", "assigned", "closed"} <= set(audited)


def test_bad_incident_bodies_are_refused_with_the_one_error_shape(node):
    admin = logged_in(node.app(), node.accounts)
    for body in (
        {"type": "Intrusion!", "title": "x"},
        {"type": "fire", "title": ""},
        {"type": "fire", "title": "x", "severity": "apocalyptic"},
        {"type": "fire", "title": "x", "alarms": [12345]},
        {"type": "fire", "title": "x", "surprise": 1},
        {"title": "x"},
    ):
        got = admin.post("/api/v1/incidents", json=body)
        assert got.status_code == 400 and set(got.json()["error"]) == {"kind", "message"}, body
    by_hand = admin.post("/api/v1/incidents", json={"type": "flood", "title": "Water in the basement"}).json()
    assert by_hand["checklist"] == [] and by_hand["incident"]["plan_title"] == "", "no plan for that type"


def test_the_plans_library_is_edited_by_admins_and_a_malformed_plan_is_refused(node, tmp_path):
    admin = logged_in(node.app(), node.accounts)
    plans = admin.get("/api/v1/plans").json()["items"]
    types = [p["type"] for p in plans]
    assert {"intrusion", "fire", "medical", "violence", "camera_sabotage", "lost_child"} <= set(types)
    fire = admin.get("/api/v1/plans/fire").json()
    assert fire["built_in"] and fire["valid"] and fire["revision"] == ""
    malformed = [
        ("type: fire\ntitle: Fire\nsteps: []\n", "steps"),
        ("type: fire\ntitle: Fire\nsteps:\n  - {txt: Call}\n", "steps[0].txt: unknown key"),
        ("type: fire\ntitle: Fire\nsteps: [{text: Call}]\nseverity: extreme\n", "severity"),
        ("type: fire\n  title: : :\n", "not valid YAML"),
        ("- just a list\n", "mapping"),
        ("type: flood\ntitle: Flood\nsteps: [{text: Call}]\n", "saved as 'fire'"),
    ]
    for text, problem in malformed:
        got = admin.put("/api/v1/plans/fire", json={"text": text, "revision": ""})
        assert got.status_code == 400 and problem in got.json()["error"]["message"], (text, got.json())
    good = "type: fire\ntitle: Fire (site)\nseverity: critical\nsteps:\n  - {text: Call 119, who: operator}\n"
    saved = admin.put("/api/v1/plans/fire", json={"text": good, "revision": "", "reason": "our own numbers"}).json()
    assert saved["title"] == "Fire (site)" and not saved["built_in"] and saved["revision"]
    assert (tmp_path / "plans" / "fire.yaml").read_text() == good
    stale = admin.put("/api/v1/plans/fire", json={"text": good, "revision": ""})
    assert stale.status_code == 409
    again = admin.put(
        "/api/v1/plans/fire", json={"text": good.replace("119", "119 now"), "revision": saved["revision"]}
    )
    assert again.status_code == 200 and len(list((tmp_path / "plans" / ".vigil-plans-history").iterdir())) == 1
    (tmp_path / "plans" / "medical.yaml").write_text("type: medical\nsteps: nope\n")  # broken by hand
    medical = admin.get("/api/v1/plans/medical").json()
    assert not medical["valid"] and "title" in medical["problem"]
    node.accounts.add_user("olga", "operator", "correct horse battery", must_change=False)
    olga = logged_in(node.app(), node.accounts, "olga")
    assert olga.get("/api/v1/plans/fire").status_code == 200
    assert olga.put("/api/v1/plans/fire", json={"text": good, "revision": again.json()["revision"]}).status_code == 403
    assert node.audit.entries(action="plan_change")[0].detail["plan"] == "fire"


def test_the_cli_lists_acknowledges_resolves_and_writes_the_report(node, tmp_path, capsys):
    from vigil.cli import main as cli_main

    alarm = raise_alarm(node, "gate")
    config = str(tmp_path / "vigil.yaml")
    assert cli_main(["-c", config, "alarms", "list"]) == 0
    assert "P1  new" in capsys.readouterr().out
    assert cli_main(["-c", config, "alarms", "ack", str(alarm.id), "--by", "ana"]) == 0
    assert cli_main(["-c", config, "alarms", "ack", str(alarm.id), "--by", "bob"]) == 2, "acknowledged already"
    assert "acknowledged already by ana" in capsys.readouterr().err
    assert cli_main(["-c", config, "alarms", "resolve", str(alarm.id), "--outcome", "test", "--by", "ana"]) == 0
    assert node.alarm_desk.store.alarm(alarm.id).outcome == "test"
    assert cli_main(["-c", config, "alarms", "show", str(alarm.id)]) == 0
    assert "resolved" in capsys.readouterr().out
    incident = node.incidents.open("fire", "Smoke in the hall", None, "Hall", "ana", alarm_ids=[alarm.id])
    assert cli_main(["-c", config, "incidents", "list"]) == 0
    assert "Smoke in the hall" in capsys.readouterr().out
    out = tmp_path / "report.pdf"
    assert cli_main(["-c", config, "incidents", "report", str(incident.id), "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF")
    assert cli_main(["-c", config, "incidents", "show", str(incident.id)]) == 0
    assert "Call the fire brigade" in capsys.readouterr().out
