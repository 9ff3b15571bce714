"""The equipment register on a real SQLite catalog: cameras registered from vigil.yaml with their device block, a
value changed in the console kept until the file changes that key, a change in the file applied again; this node and
its disk registered; links checked (unknown equipment, cycles refused with the path); two people editing one record
(the second is told); documents kept by their bytes (refused when they are not what their name says, or too large);
a device replaced with its history; every change audited."""

from pathlib import Path

import pytest

from support.node import node_config
from vigil.config.loader import parse_config
from vigil.domain.equipment import Dependency, Equipment, EquipmentKind
from vigil.domain.errors import Conflict, InvalidRequest, NotFound
from vigil.storage.audit_log import SqlAuditLog
from vigil.storage.catalog import SqlCatalog, sqlite_url
from vigil.storage.equipment import SqlEquipment
from vigil.storage.maintenance_files import MaintenanceFiles
from vigil.usecases.equipment_register import EquipmentRegister

T0 = 1_764_000_000_000_000


class Clock:
    now = T0

    def now_us(self) -> int:
        return self.now


DEVICE = {"model": "Hikvision DS-2CD2143G2", "serial": "E1234", "installed": "2024-05-01", "firmware": "V5.7.3"}


def config_with(tmp_path: Path, device: dict):
    config, _ = node_config(tmp_path, {"gate": "rtsp://10.0.0.5/stream1", "yard": "rtsp://cam-yard.local/1"})
    doc = config.model_dump(mode="json", exclude_none=True)
    doc["cameras"][0]["device"] = device
    return parse_config(doc)


@pytest.fixture
def reg(tmp_path):
    catalog = SqlCatalog(sqlite_url(tmp_path / "vigil.db"))
    audit = SqlAuditLog(catalog, tmp_path / "audit.head")
    register = EquipmentRegister(
        SqlEquipment(catalog), MaintenanceFiles(tmp_path / "m"), audit, Clock(), documents_max_bytes=4096
    )
    register.sync(config_with(tmp_path, DEVICE))
    register.audit_log = audit  # type: ignore[attr-defined]
    yield register
    catalog.close()


def test_cameras_are_registered_from_the_configuration_with_their_device_block(reg, tmp_path) -> None:
    gate = reg.get("gate")
    assert (gate.kind, gate.model, gate.serial, gate.firmware, gate.installed) == (
        EquipmentKind.CAMERA, "Hikvision DS-2CD2143G2", "E1234", "V5.7.3", "2024-05-01")  # fmt: skip
    assert gate.ip == "10.0.0.5", "the address of the camera's stream when it is an IP address"
    assert reg.get("yard").ip == "", "a host name is not an address"
    assert reg.get("vigil").kind is EquipmentKind.NODE and reg.get("vigil:disk").depends_on == (Dependency("vigil"),)
    assert reg.sync(config_with(tmp_path, DEVICE)) == 0, "nothing changed: nothing written"


def test_a_console_change_is_kept_until_the_file_changes_that_key(reg, tmp_path) -> None:
    gate = reg.get("gate")
    changed = reg.change("gate", {"firmware": "V5.8.0", "mount_height_m": 4.5}, gate.revision, "ana")
    assert changed.firmware == "V5.8.0" and changed.revision == gate.revision + 1
    reg.sync(config_with(tmp_path, DEVICE))  # the file still says V5.7.3, as it did: the console's value stays
    assert reg.get("gate").firmware == "V5.8.0"
    reg.sync(config_with(tmp_path, {**DEVICE, "firmware": "V5.9.1"}))  # the file changed it: applied
    after = reg.get("gate")
    assert after.firmware == "V5.9.1" and after.mount_height_m == 4.5
    history = reg.history("gate")
    assert [h.actor for h in history][:2] == ["vigil.yaml", "ana"]
    assert history[0].detail["fields"]["firmware"] == ["V5.8.0", "V5.9.1"]


def test_links_must_name_known_equipment_and_make_no_cycle(reg) -> None:
    reg.add(Equipment("ups-1", EquipmentKind.POWER, "UPS 1"), "ana")
    reg.add(Equipment("sw-1", EquipmentKind.SWITCH, "Lobby switch", depends_on=(Dependency("ups-1", "A3"),)), "ana")
    gate = reg.get("gate")
    reg.change("gate", {"depends_on": ["sw-1@7"]}, gate.revision, "ana")
    assert reg.get("gate").depends_on == (Dependency("sw-1", "7"),)
    with pytest.raises(InvalidRequest, match="no equipment with id 'sw-9'"):
        reg.change("gate", {"depends_on": ["sw-9"]}, reg.get("gate").revision, "ana")
    ups = reg.get("ups-1")
    with pytest.raises(InvalidRequest, match="cycle: ups-1 -> gate -> sw-1 -> ups-1"):
        reg.change("ups-1", {"depends_on": [{"equipment_id": "gate"}]}, ups.revision, "ana")
    with pytest.raises(Conflict, match="still depend"):
        reg.remove("sw-1", "ana", "replaced by sw-2")
    with pytest.raises(InvalidRequest, match="cameras are added in the settings"):
        reg.add(Equipment("cam-x", EquipmentKind.CAMERA, "X"), "ana")
    with pytest.raises(Conflict, match="exists already"):
        reg.add(Equipment("ups-1", EquipmentKind.POWER, "UPS again"), "ana")


def test_two_people_editing_one_record_the_second_is_told(reg) -> None:
    seen = reg.get("gate").revision
    reg.change("gate", {"notes": "cleaned 2026-12-01"}, seen, "ana")
    with pytest.raises(Conflict, match="changed meanwhile by ana"):
        reg.change("gate", {"notes": "lens replaced"}, seen, "bob")
    assert reg.get("gate").notes == "cleaned 2026-12-01"
    with pytest.raises(InvalidRequest, match="not a field"):
        reg.change("gate", {"colour": "red"}, reg.get("gate").revision, "ana")
    with pytest.raises(InvalidRequest, match="must be a number"):
        reg.change("gate", {"fov_deg": "wide"}, reg.get("gate").revision, "ana")


def test_documents_are_kept_by_their_bytes_and_refused_when_they_lie_or_are_too_large(reg) -> None:
    pdf = b"%PDF-1.4\n" + b"x" * 100
    doc = reg.add_document("gate", "datasheet.pdf", pdf, "ana")
    assert (doc.content_type, doc.size_bytes) == ("application/pdf", len(pdf))
    again = reg.add_document("gate", "copy.pdf", pdf, "ana")
    assert again.sha256 == doc.sha256 and reg.document("gate", again.id)[1] == pdf
    with pytest.raises(InvalidRequest, match="not a PDF"):
        reg.add_document("gate", "invoice.pdf", b"MZ\x90\x00" + b"\x00" * 50, "ana")
    with pytest.raises(InvalidRequest, match="at most 4096"):
        reg.add_document("gate", "photo.jpg", b"\xff\xd8\xff" + b"\x00" * 5000, "ana")
    assert [d.name for d in reg.documents("gate")] == ["datasheet.pdf", "copy.pdf"]
    reg.remove_document("gate", doc.id, "ana")
    with pytest.raises(NotFound):
        reg.document("gate", doc.id)
    assert [h.change for h in reg.history("gate")][:3] == ["document_removed", "document_added", "document_added"]


def test_a_replaced_device_keeps_the_camera_and_records_old_and_new(reg) -> None:
    new = reg.replace_device(
        "gate", {"model": "Dahua IPC-HFW2431S", "serial": "7G0A1", "firmware": "2.800"}, "water damage", "ana",
        ticket_id=12,
    )  # fmt: skip
    assert (new.id, new.model, new.serial, new.installed) == ("gate", "Dahua IPC-HFW2431S", "7G0A1", "2025-11-24")
    [entry] = [h for h in reg.history("gate") if h.change == "replaced"]
    assert entry.detail["old"]["serial"] == "E1234" and entry.detail["new"]["serial"] == "7G0A1"
    assert entry.detail["ticket"] == 12 and entry.detail["reason"] == "water damage"
    with pytest.raises(InvalidRequest, match="old one's serial"):
        reg.replace_device("gate", {"model": "Dahua IPC-HFW2431S", "serial": "7G0A1"}, "again", "ana")
    acts = [e.detail["change"] for e in reg.audit_log.entries(action="equipment")]
    assert "replaced" in acts and "registered" in acts
