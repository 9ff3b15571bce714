"""What the API needs, injected by the runtime (the API never builds adapters itself)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from vigil.config.in_force import ConfigInForce
from vigil.config.models import Config
from vigil.domain.privacy import NO_MASKS, Masks
from vigil.domain.view_match import ViewMatch
from vigil.ports import (
    AuditLog,
    Catalog,
    Clock,
    EvidenceRegister,
    LegalHolds,
    LiveFeed,
    PlaybackStream,
    SegmentStore,
)
from vigil.usecases.accounts import Accounts
from vigil.usecases.alarm_desk import AlarmDesk
from vigil.usecases.authority_requests import AuthorityDesk
from vigil.usecases.availability import AvailabilityDesk
from vigil.usecases.backups import Backups
from vigil.usecases.early_deletion import DeletionDesk
from vigil.usecases.equipment_register import EquipmentRegister
from vigil.usecases.event_bus import AlarmBus, EventBus
from vigil.usecases.evidence import EvidenceExporter
from vigil.usecases.incident_report import IncidentReport
from vigil.usecases.incidents import IncidentDesk
from vigil.usecases.inspections import InspectionClerk
from vigil.usecases.notifications import Outbox
from vigil.usecases.plans import PlanLibrary
from vigil.usecases.quality_watch import QualityWatch
from vigil.usecases.settings import SettingsEditor
from vigil.usecases.ticket_desk import TicketDesk
from vigil.usecases.tier_status import TierState
from vigil.usecases.wall_groups import WallGroups


@dataclass(frozen=True, slots=True)
class ViewReport:
    """A replaced camera's view against its old one, with its zones, lines and masks moved by the measured transform
    (as ``cameras[]`` keys of vigil.yaml) for the admin to accept."""

    match: ViewMatch
    proposed: dict[str, Any]
    settings_revision: str  # the vigil.yaml revision the proposal was made from ("" without a settings file)


@dataclass(frozen=True, slots=True)
class ClipFile:
    path: Path  # a finished MP4
    start_us: int  # the instant of its first frame (the keyframe at or before the start asked for)


class ClipMaker(Protocol):
    """The clip of a range (copied; with ``masks``, re-encoded with the privacy masks burned in)."""

    def __call__(
        self, camera_id: str, stream: str, start_us: int, end_us: int, masks: Masks = NO_MASKS
    ) -> ClipFile: ...


class PlaybackOpener(Protocol):
    """Recorded video streamed from the keyframe at or before ``start_us`` (with ``masks``: re-encoded with them)."""

    def __call__(
        self, camera_id: str, stream: str, start_us: int, end_us: int, masks: Masks = NO_MASKS
    ) -> PlaybackStream: ...


class PictureTaker(Protocol):
    """A current picture of the camera as a JPEG (with ``masks`` filled in)."""

    def __call__(self, camera_id: str, masks: Masks = NO_MASKS) -> bytes: ...


# A JPEG with privacy masks filled in (event snapshots).
PictureMasker = Callable[[bytes, Masks], bytes]


# (an incident's report, "html" or "pdf") -> the document's bytes
ReportRenderer = Callable[[IncidentReport, str], bytes]


@dataclass(frozen=True)
class ApiDeps:
    config_in_force: ConfigInForce  # read through ``config``: settings changed while running take effect at once
    catalog: Catalog
    store: SegmentStore
    clock: Clock
    make_clip: ClipMaker
    accounts: Accounts
    audit: AuditLog
    snapshots: Path | None = None  # the folder event snapshots are written under
    bus: EventBus | None = None  # new events, for the live event stream
    live: LiveFeed | None = None  # live video for viewers; None when live view is off
    settings: SettingsEditor | None = None  # None: started without a configuration file, settings are read-only
    picture: PictureTaker | None = None  # None: no pictures (the settings page draws on a blank)
    wall_groups: WallGroups | None = None  # the live wall's camera groups
    playback: PlaybackOpener | None = None  # None: playback only by clips
    holds: LegalHolds | None = None  # legal holds (and the purpose limit they open); None: neither is served
    evidence: EvidenceExporter | None = None  # evidence packages; None: not served
    register: EvidenceRegister | None = None
    evidence_dir: Path | None = None  # where packages exported through the API are kept

    authority: AuthorityDesk | None = None  # requests from authorities; None: not kept
    deletions: DeletionDesk | None = None  # early deletions (an admin asks, an auditor decides)
    backups: Backups | None = None  # the node's own backups (ADR 0018)
    outbox: Outbox | None = None  # notifications and their delivery attempts; None: the node sends none
    mask_picture: PictureMasker | None = None  # None: snapshots of masked cameras are refused to masked viewers

    alarms: AlarmDesk | None = None  # alarms and suppressions; None: the node raises none
    alarm_bus: AlarmBus | None = None  # alarms as they change, for the live event stream
    incidents: IncidentDesk | None = None
    plans: PlanLibrary | None = None  # the emergency plans
    render_report: ReportRenderer | None = None  # incident reports as HTML or PDF
    tickets: TicketDesk | None = None  # maintenance tickets; None: not kept
    equipment: EquipmentRegister | None = None  # the equipment register; None: not kept
    inspections: InspectionClerk | None = None  # routine inspections; None: not kept
    quality: QualityWatch | None = None  # the daily picture check; None: not kept
    availability: AvailabilityDesk | None = None  # availability and health strips; None: not computed
    # a camera's device was replaced (camera, ticket): keep its old view, renew the fault detector's reference
    on_replaced: Callable[[str, int | None], None] | None = None
    view_match: Callable[[str], ViewReport] | None = None  # the new view against the old one, and shapes moved
    tiers: Callable[[], list[TierState]] | None = None  # the storage tiers as they are now; None: not shown

    @property
    def config(self) -> Config:
        return self.config_in_force.current
