"""Vigil's own disk: smartctl's JSON read (an ATA drive going bad, a worn NVMe drive, a device that will not open, as
smartctl 7.3 writes them); the real smartctl on this machine's recording folder answers without failing; a disk
problem, or a storage capacity short of the legal minimum, opens a ticket on the node's disk that clears with it; the
drive's model and serial go into its record."""

from pathlib import Path

import pytest
from test_ticket_engine import Bench

from vigil.domain.disk_health import DiskReport, smart_problems
from vigil.domain.tickets import TicketState
from vigil.storage.history import SqlHistory
from vigil.storage.smart import SmartctlProbe, device_of, parse_smartctl
from vigil.usecases.disk_watch import DiskWatch

ATA_FAILING = {
    "json_format_version": [1, 0],
    "smartctl": {"version": [7, 3], "exit_status": 8},
    "device": {"name": "/dev/sda", "type": "sat"},
    "model_name": "WDC WD40PURZ-85AKKY0",
    "serial_number": "WD-WX12D81ABC23",
    "firmware_version": "80.00A80",
    "smart_status": {"passed": False},
    "ata_smart_attributes": {"revision": 16, "table": [
        {"id": 1, "name": "Raw_Read_Error_Rate", "raw": {"value": 0, "string": "0"}},
        {"id": 5, "name": "Reallocated_Sector_Ct", "raw": {"value": 24, "string": "24"}},
        {"id": 197, "name": "Current_Pending_Sector", "raw": {"value": 3, "string": "3"}},
        {"id": 198, "name": "Offline_Uncorrectable", "raw": {"value": 0, "string": "0"}},
    ]},
    "temperature": {"current": 41},
}  # fmt: skip
NVME_WORN = {
    "smartctl": {"version": [7, 3], "exit_status": 0},
    "model_name": "Samsung SSD 980 PRO 1TB",
    "serial_number": "S5GXNX0R123456",
    "smart_status": {"passed": True},
    "nvme_smart_health_information_log": {"critical_warning": 0, "media_errors": 0, "percentage_used": 93},
}
NO_DEVICE = {
    "smartctl": {"version": [7, 3], "exit_status": 1,
                 "messages": [{"string": "/dev/vda: Unable to detect device type", "severity": "error"}]},
}  # fmt: skip


def test_smartctls_json_is_read_and_judged() -> None:
    ata = parse_smartctl(ATA_FAILING, "/dev/sda")
    assert ata.available and ata.passed is False and ata.model == "WDC WD40PURZ-85AKKY0" and ata.temperature_c == 41
    assert smart_problems(ata) == [
        "the drive's SMART self-assessment says it is failing",
        "24 reallocated sectors",
        "3 sectors pending reallocation",
    ]
    assert smart_problems(parse_smartctl(NVME_WORN, "/dev/nvme0n1")) == ["NVMe wear at 93% of its rated life"]
    none = parse_smartctl(NO_DEVICE, "/dev/vda")
    assert not none.available and "Unable to detect device type" in none.message and smart_problems(none) == []


def test_the_real_smartctl_on_this_machine_answers_without_failing(tmp_path: Path) -> None:
    report = SmartctlProbe().probe(tmp_path)
    assert report.device.startswith("/dev/") or report.device == str(tmp_path)
    assert report.available or report.message, "an unreadable disk says why"
    if report.available:
        assert report.passed is not False or smart_problems(report)
    missing = SmartctlProbe("no-such-smartctl").probe(tmp_path)
    assert not missing.available and ("not installed" in missing.message or "no block device" in missing.message)
    assert device_of(tmp_path) is None or device_of(tmp_path).startswith("/dev/")


class Probe:
    def __init__(self) -> None:
        self.report = DiskReport("/dev/sda", True, passed=True, model="WDC WD40PURZ", serial="WD-1")

    def probe(self, path: Path) -> DiskReport:
        return self.report


@pytest.fixture
def bench(tmp_path):
    b = Bench(tmp_path)
    yield b
    b.catalog.close()


def test_a_disk_problem_opens_a_ticket_on_the_nodes_disk_and_clears_with_it(bench: Bench, tmp_path: Path) -> None:
    probe = Probe()
    watch = DiskWatch(probe, bench.catalog, SqlHistory(bench.catalog), bench.register, bench.clock, tmp_path)
    assert watch.check() == [] and bench.register.get("vigil:disk").serial == "WD-1"
    probe.report = parse_smartctl(ATA_FAILING, "/dev/sda")
    assert watch.check()
    [t] = bench.later(1)
    assert (t.kind.value, t.equipment_id, t.priority) == ("disk", "vigil:disk", 2) and "24 reallocated" in t.detail
    watch.check()
    assert bench.later(1) == [] and len(bench.catalog.open_events(["fault"])) == 1, "one problem, one event"
    probe.report = Probe().report  # the drive replaced
    watch.check()
    [cleared] = bench.later(1)
    assert cleared.state is TicketState.RESOLVED
    assert bench.register.get("vigil:disk").serial == "WD-1"


def test_storage_short_of_the_legal_minimum_is_a_disk_ticket(bench: Bench) -> None:
    event = bench.catalog.add_event("storage_capacity", bench.clock.now, "the budget holds 12 of 30 days")
    [t] = bench.later(1)
    assert t.kind.value == "disk" and t.equipment_id == "vigil:disk"
    bench.catalog.end_event(event, bench.clock.now)
    [cleared] = bench.later(1)
    assert cleared.fault_cleared_us is not None
