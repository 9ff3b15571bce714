"""JSON shapes of the equipment register and maintenance tickets."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vigil.api.schemas import EventOut
from vigil.domain.equipment import Document, Equipment, EquipmentHistoryEntry
from vigil.domain.tickets import Ticket, TicketHistoryEntry
from vigil.domain.timeutil import iso_from_us


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _iso(us: int | None) -> str | None:
    return iso_from_us(us) if us is not None else None


# --- tickets -----------------------------------------------------------------------------------------------
class TicketOut(BaseModel):
    id: int
    equipment_id: str = Field(description="A camera, or the shared equipment (a switch) the outage is put down to")
    kind: str = Field(description="offline, frozen, black, overexposed, blurred, covered, moved, low_fps, ...")
    title: str
    priority: int = Field(description="1 (most urgent) to 4")
    state: str = Field(description="open, acknowledged, in_progress, waiting, resolved, verified or closed")
    source: str = Field(description="fault, manual, alarm, incident, inspection, degradation or disk")
    source_ref: str
    cameras: list[str]
    opened: str
    opened_us: int
    opened_by: str
    first_seen_us: int | None = Field(description="The fault's onset")
    last_seen_us: int | None
    fault_cleared_us: int | None = Field(description="When the fault went away (null while it is there)")
    respond_due_us: int | None
    restore_due_us: int | None
    responded_us: int | None
    acknowledged_by: str
    assignee: str
    vendor: str
    resolved_us: int | None
    resolved_by: str
    verified_us: int | None
    verify_note: str = Field(description="What Vigil says of the verification (why it is not verified)")
    closed_us: int | None
    closed_by: str
    work_done: list[str]
    parts: list[str]
    time_spent_min: int
    vendor_ref: str
    has_good_picture: bool
    has_fault_picture: bool
    reopened: int
    overdue: list[str] = Field(description="Deadlines missed: respond, restore")
    detail: str
    revision: int = Field(description="Send it back with a change: a stale one is refused (conflict)")
    updated_us: int

    @classmethod
    def of(cls, t: Ticket) -> TicketOut:
        return cls(
            id=t.id,
            equipment_id=t.equipment_id,
            kind=t.kind.value,
            title=t.title,
            priority=t.priority,
            state=t.state.value,
            source=t.source,
            source_ref=t.source_ref,
            cameras=list(t.cameras),
            opened=iso_from_us(t.opened_us),
            opened_us=t.opened_us,
            opened_by=t.opened_by,
            first_seen_us=t.first_seen_us,
            last_seen_us=t.last_seen_us,
            fault_cleared_us=t.fault_cleared_us,
            respond_due_us=t.respond_due_us,
            restore_due_us=t.restore_due_us,
            responded_us=t.responded_us,
            acknowledged_by=t.acknowledged_by,
            assignee=t.assignee,
            vendor=t.vendor,
            resolved_us=t.resolved_us,
            resolved_by=t.resolved_by,
            verified_us=t.verified_us,
            verify_note=t.verify_note,
            closed_us=t.closed_us,
            closed_by=t.closed_by,
            work_done=list(t.work_done),
            parts=list(t.parts),
            time_spent_min=t.time_spent_min,
            vendor_ref=t.vendor_ref,
            has_good_picture=bool(t.good_picture),
            has_fault_picture=bool(t.fault_picture),
            reopened=t.reopened,
            overdue=list(t.overdue),
            detail=t.detail,
            revision=t.revision,
            updated_us=t.updated_us,
        )


class TicketChangeOut(BaseModel):
    at: str
    at_us: int
    actor: str
    change: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, h: TicketHistoryEntry) -> TicketChangeOut:
        return cls(at=iso_from_us(h.at_us), at_us=h.at_us, actor=h.actor, change=str(h.change), detail=dict(h.detail))


class TicketDetailOut(BaseModel):
    ticket: TicketOut
    history: list[TicketChangeOut]
    events: list[EventOut] = Field(description="The fault events of its episodes (at most 100)")


class TicketOpenIn(Strict):
    equipment_id: str = Field(min_length=1, max_length=64, description="The equipment it is about (register id)")
    kind: str = Field(default="other", max_length=16, description="What is wrong (offline, covered, ... other)")
    title: str = Field(default="", max_length=200, description="Default: made of the equipment and kind")
    priority: int | None = Field(default=None, ge=1, le=4, description="Default: the kind's (maintenance.priorities)")
    cameras: list[str] = Field(default_factory=list, max_length=100, description="Cameras affected")
    source: str = Field(default="manual", max_length=16, description="manual, alarm or incident")
    source_ref: str = Field(default="", max_length=100, description="The alarm's or incident's id")
    note: str = Field(default="", max_length=4000)


class RevisionIn(Strict):
    revision: int | None = Field(
        default=None, ge=1, description="The revision the person saw (refused when someone changed it since)"
    )


class TicketAssignIn(RevisionIn):
    assignee: str = Field(default="", max_length=64, description="A user name")
    vendor: str = Field(default="", max_length=200, description="A vendor (their accounts see the ticket)")


class TicketWaitIn(RevisionIn):
    why: str = Field(default="", max_length=500, description="What it waits for (parts, the vendor)")


class TicketResolveIn(RevisionIn):
    work_done: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="What was done: cleaned, refocused, cabling, power, firmware, reconfigured, replaced, rebooted, "
        "none_needed, other",
    )
    parts: list[str] = Field(default_factory=list, max_length=50)
    time_spent_min: int | None = Field(default=None, ge=0, le=100_000)
    note: str = Field(default="", max_length=2000)


class TicketReopenIn(RevisionIn):
    why: str = Field(min_length=1, max_length=500)


class TicketEditIn(RevisionIn):
    priority: int | None = Field(default=None, ge=1, le=4)
    work_done: list[str] | None = Field(default=None, max_length=10)
    parts: list[str] | None = Field(default=None, max_length=50)
    time_spent_min: int | None = Field(default=None, ge=0, le=100_000)
    vendor_ref: str | None = Field(default=None, max_length=100)


class TicketNoteIn(Strict):
    text: str = Field(min_length=1, max_length=4000)


class TicketWindowIn(Strict):
    start: str = Field(description="ISO 8601 time")
    end: str = Field(description="ISO 8601 time")
    reason: str = Field(default="", max_length=500)


class WindowOut(BaseModel):
    suppression_id: int
    cameras: list[str]
    start_us: int
    end_us: int | None


# --- equipment -----------------------------------------------------------------------------------------------
class LinkOut(BaseModel):
    equipment_id: str
    port: str


class EquipmentOut(BaseModel):
    id: str
    kind: str
    name: str
    site: str
    location: str
    model: str
    serial: str
    firmware: str
    ip: str
    mac: str
    vendor: str
    vendor_contact: str
    installer_contact: str
    installed: str
    warranty_end: str
    lens: str
    fov_deg: float | None
    mount_height_m: float | None
    notes: str
    depends_on: list[LinkOut]
    revision: int
    updated_us: int
    updated_by: str
    removed_us: int | None
    status: str = Field(description="recording, offline, fault, maintenance (an open ticket), ok, removed")
    open_tickets: int

    @classmethod
    def of(cls, e: Equipment, status: str = "", open_tickets: int = 0) -> EquipmentOut:
        return cls(
            id=e.id,
            kind=e.kind.value,
            name=e.name,
            site=e.site,
            location=e.location,
            model=e.model,
            serial=e.serial,
            firmware=e.firmware,
            ip=e.ip,
            mac=e.mac,
            vendor=e.vendor,
            vendor_contact=e.vendor_contact,
            installer_contact=e.installer_contact,
            installed=e.installed,
            warranty_end=e.warranty_end,
            lens=e.lens,
            fov_deg=e.fov_deg,
            mount_height_m=e.mount_height_m,
            notes=e.notes,
            depends_on=[LinkOut(equipment_id=d.equipment_id, port=d.port) for d in e.depends_on],
            revision=e.revision,
            updated_us=e.updated_us,
            updated_by=e.updated_by,
            removed_us=e.removed_us,
            status=status or ("removed" if e.removed_us is not None else "ok"),
            open_tickets=open_tickets,
        )


class EquipmentChangeOut(BaseModel):
    at: str
    at_us: int
    actor: str
    change: str
    revision: int
    detail: dict[str, Any]

    @classmethod
    def of(cls, h: EquipmentHistoryEntry) -> EquipmentChangeOut:
        return cls(
            at=iso_from_us(h.at_us),
            at_us=h.at_us,
            actor=h.actor,
            change=h.change,
            revision=h.revision,
            detail=dict(h.detail),
        )


class DocumentOut(BaseModel):
    id: int
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    added: str
    added_by: str

    @classmethod
    def of(cls, d: Document) -> DocumentOut:
        return cls(
            id=d.id,
            name=d.name,
            content_type=d.content_type,
            size_bytes=d.size_bytes,
            sha256=d.sha256,
            added=iso_from_us(d.added_us),
            added_by=d.added_by,
        )


class EquipmentDetailOut(BaseModel):
    equipment: EquipmentOut
    history: list[EquipmentChangeOut]
    documents: list[DocumentOut]
    upstream: list[str] = Field(description="What it depends on, directly or not, nearest first")
    dependents: list[str] = Field(description="What depends on it, directly or not")
    tickets: list[TicketOut] = Field(description="Its tickets, newest first (at most 50)")


class EquipmentIn(Strict):
    id: str = Field(min_length=1, max_length=63)
    kind: str = Field(description="node, disk, switch, port_group, power, recorder or other (cameras: the settings)")
    name: str = Field(min_length=1, max_length=200)
    values: dict[str, Any] = Field(default_factory=dict, description="Any other fields of the record")


class EquipmentPatchIn(Strict):
    revision: int = Field(ge=1, description="The revision the person saw")
    values: dict[str, Any] = Field(description="The fields to change (depends_on: [{equipment_id, port}])")


class ReplaceIn(Strict):
    device: dict[str, Any] = Field(description="The new device: model, serial, firmware, ip, mac, installed, lens, ...")
    reason: str = Field(min_length=1, max_length=500)
    ticket_id: int | None = None
    revision: int | None = Field(default=None, ge=1)


# --- availability --------------------------------------------------------------------------------------------
class FiguresOut(BaseModel):
    observed_s: float = Field(description="From the later of the period's start and the first recording, to its end")
    recording_s: float
    recording_share: float | None
    healthy_s: float = Field(description="Recording with no picture fault")
    healthy_share: float | None
    planned_down_s: float = Field(description="Downtime inside maintenance windows or caused on purpose")
    unplanned_down_s: float
    outages: int = Field(description="Stretches without recording not wholly planned")
    mtbf_s: float | None
    mttr_s: float | None

    @classmethod
    def of(cls, a: Any) -> FiguresOut:
        return cls(
            observed_s=a.observed_us / 1e6,
            recording_s=a.recording_us / 1e6,
            recording_share=a.recording_share,
            healthy_s=a.healthy_us / 1e6,
            healthy_share=a.healthy_share,
            planned_down_s=a.planned_us / 1e6,
            unplanned_down_s=a.unplanned_us / 1e6,
            outages=a.outages,
            mtbf_s=a.mtbf_s,
            mttr_s=a.mttr_s,
        )


class BucketOut(BaseModel):
    label: str = Field(description="2026-12-07, 2026-W49 or 2026-12 (the site's time zone)")
    start_us: int
    end_us: int
    figures: FiguresOut


class AvailabilityOut(BaseModel):
    subject: str = Field(description="camera:<id>, site:<name>, equipment:<id> or cameras")
    cameras: list[str]
    whole: FiguresOut
    buckets: list[BucketOut]


class StripPieceOut(BaseModel):
    track: str = Field(description="recording, gap, fault, maintenance or ticket")
    start_us: int
    end_us: int
    label: str
    ref: str


class StripOut(BaseModel):
    camera_id: str
    start_us: int
    end_us: int
    pieces: list[StripPieceOut]


class QualitySampleOut(BaseModel):
    day: str = Field(description="The site's local date")
    period: str = Field(description="day or night")
    at_us: int = Field(description="The start of the hour measured")
    frames: int = Field(description="Pictures measured")
    sharpness: float = Field(description="Finest detail against the next scale (dirt, fog, focus lower it)")
    contrast: float = Field(description="Luminance spread, 5th to 95th percentile")
    brightness: float = Field(description="Median luminance")
    noise: float = Field(description="Noise, in levels")
    cast: float = Field(description="Distance of the average colour from grey (CIELAB a*b*)")


class QualityFindingOut(BaseModel):
    period: str
    metric: str = Field(description="sharpness, contrast, brightness, noise or cast")
    baseline: float
    recent: float
    text: str


class QualityOut(BaseModel):
    camera_id: str
    baseline_since_us: int = Field(description="The baseline starts here (a replacement, a reconfiguration)")
    baselines: dict[str, dict[str, float]] = Field(
        description="Per period (day, night) with enough samples: each figure's baseline"
    )
    samples: list[QualitySampleOut]
    findings: list[QualityFindingOut] = Field(description="What has declined against the baseline now")


class ViewMatchOut(BaseModel):
    verdict: str = Field(description="restored (the view is as it was), adjust, or no_match (not the same scene)")
    matched: bool
    inliers: int = Field(description="Features of the old view found again, agreeing on one movement")
    shift_x: float = Field(description="Where the old view's centre is now, as a share of the width (+: right)")
    shift_y: float = Field(description="... of the height (+: down)")
    rotation_deg: float = Field(description="+: the scene turned clockwise in the picture")
    zoom: float = Field(description="> 1: the scene looks bigger")
    overlap: float = Field(description="Share of the old view still in the picture")
    reason: str
    proposed: dict[str, Any] = Field(
        description="The camera's zones, lines, motion mask and privacy masks moved by the measured transform, as "
        "keys of cameras[] in vigil.yaml (accept them through PUT /api/v1/settings/cameras/{id})"
    )
    settings_revision: str


class AnswerIn(Strict):
    item: str = Field(min_length=1, max_length=200)
    ok: bool
    note: str = Field(default="", max_length=2000, description="Required when not ok: what is wrong")


class InspectionDoneIn(Strict):
    answers: list[AnswerIn] = Field(max_length=50, description="Every item of the checklist, once")


class InspectionOut(BaseModel):
    id: int
    name: str
    camera_id: str
    due_us: int
    state: str = Field(description="due, done or dropped")
    overdue: bool
    items: list[str] = Field(description="The checklist (of the schedule as configured now)")
    done_us: int | None
    done_by: str
    answers: list[dict[str, Any]]
    has_picture: bool
    ticket_id: int | None
