"""The equipment register and tickets over the HTTP API of a real node recording a simulated RTSP camera:

- the register: equipment added, a camera linked to it (a stale revision is a conflict, a cycle is refused with its
  path, an unknown link named), documents uploaded (a file that is not what its name says, and one too large, are
  refused; what is kept reads back byte for byte), the register and tickets as CSV;
- tickets: opened by hand from an alarm, acknowledged, a stale revision refused, a resolve without the work done
  refused, a resolved ticket that cannot be closed before Vigil verifies it;
- a technician sees health but no picture of a camera until a ticket on it is given to them, then sees it with the
  privacy masks filled in, never exports, and loses the picture once the ticket is done;
- a vendor's account sees only its vendor's equipment and tickets, and cannot log in outside its access window.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from support.node import TEST_PASSWORD, logged_in, node_config, wait_for
from vigil.config.loader import parse_config
from vigil.domain.tickets import TicketState, verified
from vigil.media.simulator import RtspSimulator
from vigil.runtime import Vigil

MASK = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]  # the left half of the picture


@pytest.fixture(scope="module")
def node(synthetic_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vigil]:
    work = tmp_path_factory.mktemp("maintenance-api")
    simulator = RtspSimulator({"gate": synthetic_clip, "yard": synthetic_clip}, log_path=work / "rtsp.log")
    simulator.start()
    config, _ = node_config(
        work,
        {"gate": simulator.url("gate"), "yard": simulator.url("yard")},
        maintenance={"documents_max_bytes": 50_000},
    )
    doc = config.model_dump(mode="json", exclude_none=True)
    doc["cameras"][0]["privacy_masks"] = [MASK]
    vigil = Vigil(parse_config(doc), work)
    vigil.start()
    try:
        wait_for(lambda: len(vigil.catalog.segments("gate", "main")) >= 2, timeout=40, what="gate recording")
        yield vigil
    finally:
        vigil.stop()
        simulator.stop()


def test_the_register_over_the_api(node: Vigil) -> None:
    admin = logged_in(node.app(), node.accounts)
    r = admin.post("/api/v1/equipment", json={"id": "sw-1", "kind": "switch", "name": "Gate switch",
                                               "values": {"ip": "10.0.0.2", "vendor": "Acme Security"}})  # fmt: skip
    assert r.status_code == 201, r.text
    gate = admin.get("/api/v1/equipment/gate").json()["equipment"]
    assert gate["kind"] == "camera" and gate["status"] == "recording"
    link = {"revision": gate["revision"], "values": {"depends_on": [{"equipment_id": "sw-1", "port": "4"}]}}
    assert admin.patch("/api/v1/equipment/gate", json=link).status_code == 200
    stale = admin.patch("/api/v1/equipment/gate", json={**link, "values": {"notes": "x"}})
    assert stale.status_code == 409 and "changed meanwhile" in stale.json()["error"]["message"]
    sw = admin.get("/api/v1/equipment/sw-1").json()
    assert sw["dependents"] == ["gate"]
    cycle = admin.patch("/api/v1/equipment/sw-1", json={"revision": sw["equipment"]["revision"],
                                                         "values": {"depends_on": ["gate"]}})  # fmt: skip
    assert cycle.status_code == 400 and "sw-1 -> gate -> sw-1" in cycle.json()["error"]["message"]
    unknown = admin.patch("/api/v1/equipment/sw-1", json={"revision": sw["equipment"]["revision"],
                                                           "values": {"depends_on": ["ups-9"]}})  # fmt: skip
    assert unknown.status_code == 400 and "ups-9" in unknown.json()["error"]["message"]
    pdf = b"%PDF-1.4\n% a datasheet\n" + bytes(range(256)) * 10
    up = admin.post("/api/v1/equipment/sw-1/documents?name=datasheet.pdf", content=pdf)
    assert up.status_code == 201, up.text
    back = admin.get(f"/api/v1/equipment/sw-1/documents/{up.json()['id']}")
    assert back.content == pdf and back.headers["content-type"] == "application/pdf"
    fake = admin.post("/api/v1/equipment/sw-1/documents?name=manual.pdf", content=b"MZ\x90\x00" + b"\x00" * 100)
    assert fake.status_code == 400 and "not a PDF" in fake.json()["error"]["message"]
    big = admin.post("/api/v1/equipment/sw-1/documents?name=photo.jpg", content=b"\xff\xd8\xff" + b"\x00" * 60_000)
    assert big.status_code == 400 and "larger than 50000" in big.json()["error"]["message"]
    assert [d["name"] for d in admin.get("/api/v1/equipment/sw-1").json()["documents"]] == ["datasheet.pdf"]
    text = admin.get("/api/v1/equipment.csv").text
    assert "gate,camera" in text and "sw-1@4" in text


def test_tickets_over_the_api_refuse_stale_revisions_and_closing_before_verification(node: Vigil) -> None:
    admin = logged_in(node.app(), node.accounts)
    opened = admin.post("/api/v1/tickets", json={"equipment_id": "yard", "kind": "blurred", "source": "alarm",
                                                   "source_ref": "42", "note": "seen on the alarm desk"})  # fmt: skip
    assert opened.status_code == 201, opened.text
    t = opened.json()
    assert (t["state"], t["priority"], t["cameras"], t["source"]) == ("open", 3, ["yard"], "alarm")
    ack = admin.post(f"/api/v1/tickets/{t['id']}/acknowledge", json={"revision": t["revision"]}).json()
    again = admin.post(f"/api/v1/tickets/{t['id']}/start", json={"revision": t["revision"]})
    assert again.status_code == 409
    nothing = admin.post(f"/api/v1/tickets/{t['id']}/resolve", json={"revision": ack["revision"]})
    assert nothing.status_code == 400 and "work_done" in nothing.json()["error"]["message"]
    done = admin.post(f"/api/v1/tickets/{t['id']}/resolve",
                      json={"revision": ack["revision"], "work_done": ["refocused"], "time_spent_min": 20})  # fmt: skip
    assert done.json()["state"] == "resolved"
    close = admin.post(f"/api/v1/tickets/{t['id']}/close", json={"revision": done.json()["revision"]})
    assert close.status_code == 409 and "only a verified ticket" in close.json()["error"]["message"]
    detail = admin.get(f"/api/v1/tickets/{t['id']}").json()
    assert [h["change"] for h in detail["history"]] == ["opened", "acknowledged", "resolved"]
    assert admin.post("/api/v1/tickets", json={"equipment_id": "nope"}).status_code == 400
    assert admin.post("/api/v1/tickets", json={"equipment_id": "yard", "kind": "exploded"}).status_code == 400
    csv = admin.get("/api/v1/tickets.csv", params={"start": "2020-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"})
    assert csv.status_code == 200 and f"\n{t['id']},yard,blurred," in csv.text


def masked_share(jpeg: bytes) -> float:
    """How much of the left half (the mask) is one flat colour."""
    picture = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    left = picture[:, : picture.shape[1] // 2 - 4]
    return float(np.mean(np.abs(left.astype(int) - int(np.median(left))) < 6))


def test_a_technician_sees_a_camera_only_while_a_ticket_on_it_is_theirs(node: Vigil) -> None:
    node.accounts.add_user("tom", "technician", TEST_PASSWORD, must_change=False)
    tom = logged_in(node.app(), node.accounts, "tom")
    assert {h["camera_id"] for h in tom.get("/api/v1/health").json()["items"]} >= {"gate", "yard"}
    assert tom.get("/api/v1/cameras/gate/picture.jpg").status_code == 403
    ticket = node.tickets.open("gate", "ana", kind="covered")
    node.tickets.assign(ticket.id, "ana", None, assignee="tom")
    seen = tom.get("/api/v1/cameras/gate/picture.jpg")
    assert seen.status_code == 200 and masked_share(seen.content) > 0.95, "the privacy mask is filled in"
    assert tom.get("/api/v1/cameras/yard/picture.jpg").status_code == 403, "not their ticket's camera"
    span = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:00:10Z", "download": "true"}
    export = tom.get("/api/v1/cameras/gate/clip.mp4", params=span)
    assert export.status_code == 403
    store = node.tickets.store
    current = store.ticket(ticket.id)
    store.update(verified(current, node.clock.now_us()), current.revision, [])  # the repair verified: done
    assert store.ticket(ticket.id).state is TicketState.VERIFIED
    assert tom.get("/api/v1/cameras/gate/picture.jpg").status_code == 403, "the ticket is done: no picture"


def test_a_vendors_account_sees_its_own_only_and_only_within_its_window(node: Vigil) -> None:
    admin = logged_in(node.app(), node.accounts)
    if node.register.store.get("sw-1") is None:
        admin.post("/api/v1/equipment", json={"id": "sw-1", "kind": "switch", "name": "Gate switch",
                                               "values": {"vendor": "Acme Security"}})  # fmt: skip
    admin.post("/api/v1/equipment", json={"id": "ups-2", "kind": "power", "name": "UPS", "values": {"vendor": "Other"}})
    node.accounts.add_user("vic", "technician", TEST_PASSWORD, must_change=False)
    window = {"vendor": "Acme Security", "access_from": "2020-01-01T00:00:00Z", "access_until": "2099-01-01T00:00:00Z"}
    assert admin.patch("/api/v1/users/vic", json={"vendor_access": window}).status_code == 200
    vic = logged_in(node.app(), node.accounts, "vic")
    ids = {e["id"] for e in vic.get("/api/v1/equipment").json()["items"]}
    assert "sw-1" in ids and "ups-2" not in ids and "gate" not in ids
    mine = node.tickets.open("sw-1", "ana", kind="offline")
    node.tickets.assign(mine.id, "ana", None, vendor="Acme Security")
    other = node.tickets.open("ups-2", "ana", kind="other")
    listed = {t["id"] for t in vic.get("/api/v1/tickets").json()["items"]}
    assert mine.id in listed and other.id not in listed
    assert vic.get(f"/api/v1/tickets/{other.id}").status_code == 404
    assert vic.post("/api/v1/equipment", json={"id": "x-1", "kind": "other", "name": "X"}).status_code == 403
    past = {"vendor": "Acme Security", "access_from": "2020-01-01T00:00:00Z", "access_until": "2021-01-01T00:00:00Z"}
    admin.patch("/api/v1/users/vic", json={"vendor_access": past})
    refused = TestClient(node.app()).post("/api/v1/session", json={"username": "vic", "password": TEST_PASSWORD})
    assert refused.status_code == 401 and "access window" in refused.json()["error"]["message"]
