"""A disk's health as SMART reports it, and what of it is a problem. Pure: the reading is
``vigil.storage.smart``."""

from __future__ import annotations

from dataclasses import dataclass, field

ATTRIBUTES = {  # ATA attributes whose raw value above 0 means sectors going bad
    5: "reallocated sectors",
    197: "sectors pending reallocation",
    198: "uncorrectable sectors",
}
NVME_WORN_PERCENT = 90  # NVMe "percentage used" from which the drive is near its rated life


@dataclass(frozen=True, slots=True)
class DiskReport:
    device: str  # /dev/sda, or what the path is on when there is no device (an overlay, a network share)
    available: bool  # SMART could be read
    message: str = ""  # why it could not, in words
    passed: bool | None = None  # the drive's own overall assessment
    model: str = ""
    serial: str = ""
    firmware: str = ""
    attributes: dict[str, int] = field(default_factory=dict)  # the ATA counts of ATTRIBUTES, by name
    nvme_critical_warning: int = 0
    nvme_media_errors: int = 0
    nvme_percentage_used: int | None = None
    temperature_c: int | None = None


def smart_problems(report: DiskReport) -> list[str]:
    """What is wrong with the disk, in words (empty: nothing, or nothing known)."""
    if not report.available:
        return []
    out = []
    if report.passed is False:
        out.append("the drive's SMART self-assessment says it is failing")
    for name, value in report.attributes.items():
        if value > 0:
            out.append(f"{value} {name}")
    if report.nvme_critical_warning:
        out.append(f"NVMe critical warning {report.nvme_critical_warning:#x}")
    if report.nvme_media_errors:
        out.append(f"{report.nvme_media_errors} NVMe media errors")
    if report.nvme_percentage_used is not None and report.nvme_percentage_used >= NVME_WORN_PERCENT:
        out.append(f"NVMe wear at {report.nvme_percentage_used}% of its rated life")
    return out
