"""SMART health of the disk holding a folder, read with ``smartctl`` (Debian ``smartmontools``) as JSON: the folder's
device found through ``/sys/dev/block`` (a partition's parent disk), then ``smartctl -j -i -H -A``. Where smartctl is
missing, cannot open the device (a virtual disk, a container without the device, no permission) or the folder is on
no block device, the report says so (``available`` false) rather than failing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from vigil.domain.disk_health import ATTRIBUTES, DiskReport

TIMEOUT_S = 20


def device_of(path: Path, sys_root: Path = Path("/sys")) -> str | None:
    """The whole disk (``/dev/sda``, ``/dev/nvme0n1``) the folder is on, or None."""
    st = path.stat()
    block = sys_root / "dev" / "block" / f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
    try:
        real = block.resolve(strict=True)
    except (FileNotFoundError, OSError):
        return None
    if (real / "partition").exists():
        real = real.parent
    return f"/dev/{real.name}"


def parse_smartctl(doc: dict[str, Any], device: str) -> DiskReport:
    """smartctl's JSON (format version 1) as a report."""
    run = doc.get("smartctl", {})
    status = int(run.get("exit_status", 0))
    errors = [m.get("string", "") for m in run.get("messages", []) if m.get("severity") == "error"]
    if status & 0b11 or ("smart_status" not in doc and errors):  # bits 0-1: command line, or the device would not open
        return DiskReport(device, False, "; ".join(errors) or f"smartctl exit status {status}")
    attrs: dict[str, int] = {}
    for row in (doc.get("ata_smart_attributes") or {}).get("table", []):
        name = ATTRIBUTES.get(int(row.get("id", 0)))
        if name is not None:
            attrs[name] = int((row.get("raw") or {}).get("value", 0))
    nvme = doc.get("nvme_smart_health_information_log") or {}
    smart_status = doc.get("smart_status")
    return DiskReport(
        device,
        True,
        passed=None if smart_status is None else bool(smart_status.get("passed")),
        model=str(doc.get("model_name", "")),
        serial=str(doc.get("serial_number", "")),
        firmware=str(doc.get("firmware_version", "")),
        attributes=attrs,
        nvme_critical_warning=int(nvme.get("critical_warning", 0)),
        nvme_media_errors=int(nvme.get("media_errors", 0)),
        nvme_percentage_used=int(nvme["percentage_used"]) if "percentage_used" in nvme else None,
        temperature_c=(doc.get("temperature") or {}).get("current"),
    )


class SmartctlProbe:
    def __init__(self, smartctl: str = "smartctl") -> None:
        self.smartctl = smartctl

    def probe(self, path: Path) -> DiskReport:
        device = device_of(path)
        if device is None:
            return DiskReport(str(path), False, "the folder is on no block device (an overlay or a network share)")
        program = shutil.which(self.smartctl)
        if program is None:
            return DiskReport(device, False, f"{self.smartctl} is not installed (Debian package smartmontools)")
        try:
            done = subprocess.run(
                [program, "-j", "-i", "-H", "-A", device], capture_output=True, text=True, timeout=TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            return DiskReport(device, False, f"smartctl gave no answer in {TIMEOUT_S} s")
        try:
            doc = json.loads(done.stdout)
        except json.JSONDecodeError:
            return DiskReport(device, False, f"smartctl said: {(done.stderr or done.stdout).strip()[:200]}")
        return parse_smartctl(doc, device)
