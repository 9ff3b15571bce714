"""``maintenance`` in ``vigil.yaml``: when a fault becomes a maintenance ticket (a threshold per kind of fault), the
tickets' priorities and service levels, how a repair is verified, how outages behind shared equipment are grouped,
who is told, and the documents kept in the equipment register. Channel names are checked against
``notifications.channels`` by :class:`vigil.config.models.Config`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vigil.domain.degradation import DegradationSettings
from vigil.domain.inspections import Schedule
from vigil.domain.tickets import PRIORITIES, ServiceLevel, TicketKind

TicketNotice = Literal["opened", "reopened", "overdue", "verified", "not_verified", "closed", "resolved", "assigned"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _seconds(default: float, what: str) -> float:
    return Field(default=default, ge=0, le=30 * 86400, description=what)


class ThresholdsConfig(Strict):
    """How long each fault must last before it opens a ticket (short blips open none)."""

    offline: float = _seconds(60, "The camera not recording (seconds).")
    frozen: float = _seconds(30, "A frozen picture.")
    black: float = _seconds(30, "A black picture.")
    overexposed: float = _seconds(120, "A washed-out picture.")
    blurred: float = _seconds(120, "A blurred picture (defocus, dirt, fog).")
    covered: float = _seconds(30, "A covered lens.")
    moved: float = _seconds(60, "A camera turned away from its view.")
    low_fps: float = _seconds(300, "A frame rate well below the camera's own normal.")
    low_bitrate: float = _seconds(300, "A bitrate well below the camera's own normal.")

    def seconds(self, kind: TicketKind) -> float:
        return float(getattr(self, kind.value, 0.0))


class PrioritiesConfig(Strict):
    """The priority (1 most urgent - 4) of the tickets Vigil opens, per kind."""

    offline: int = Field(default=2, ge=1, le=4, description="A camera not recording.")
    frozen: int = Field(default=2, ge=1, le=4, description="A frozen picture.")
    black: int = Field(default=2, ge=1, le=4, description="A black picture.")
    overexposed: int = Field(default=3, ge=1, le=4, description="A washed-out picture.")
    blurred: int = Field(default=3, ge=1, le=4, description="A blurred picture.")
    covered: int = Field(default=1, ge=1, le=4, description="A covered lens (often tampering).")
    moved: int = Field(default=2, ge=1, le=4, description="A camera turned away.")
    low_fps: int = Field(default=3, ge=1, le=4, description="A low frame rate.")
    low_bitrate: int = Field(default=3, ge=1, le=4, description="A low bitrate.")
    restart_loop: int = Field(default=2, ge=1, le=4, description="A Vigil process restarting in a loop.")
    disk: int = Field(default=2, ge=1, le=4, description="A disk problem (SMART, I/O errors, capacity).")
    storage: int = Field(default=2, ge=1, le=4, description="Stored footage found damaged (the scrub, a reader).")
    degradation: int = Field(default=4, ge=1, le=4, description="A picture slowly getting worse.")
    inspection: int = Field(default=4, ge=1, le=4, description="An overdue routine inspection.")
    other: int = Field(default=3, ge=1, le=4, description="Tickets opened by hand (unless given one).")

    def of(self, kind: TicketKind) -> int:
        return int(getattr(self, kind.value, self.other))


class ServiceLevelConfig(Strict):
    respond_s: float = Field(gt=0, description="Seconds to the first act of a person (acknowledge, assign, start).")
    restore_s: float = Field(gt=0, description="Seconds to the repair (resolved).")


DEFAULT_LEVELS = {
    1: ServiceLevelConfig(respond_s=900, restore_s=4 * 3600),
    2: ServiceLevelConfig(respond_s=3600, restore_s=24 * 3600),
    3: ServiceLevelConfig(respond_s=4 * 3600, restore_s=3 * 86400),
    4: ServiceLevelConfig(respond_s=86400, restore_s=14 * 86400),
}


class StreamNormsConfig(Strict):
    low_ratio: float = Field(
        default=0.5, gt=0, lt=1, description="A frame rate or bitrate below this share of the camera's normal is low."
    )
    baseline_hours: float = Field(
        default=24, gt=0, le=24 * 30, description="The camera's normal: the median of its segments of these hours."
    )
    min_baseline_segments: int = Field(
        default=10, ge=1, description="Segments needed before a camera has a normal (a new camera has none yet)."
    )


class RestartLoopConfig(Strict):
    count: int = Field(default=3, ge=2, le=100, description="This many restarts of one process ...")
    window_s: float = Field(default=600, gt=0, le=86400, description="... within this many seconds: a loop.")


def _default_notices() -> list[TicketNotice]:
    return ["opened", "reopened", "overdue", "verified"]


class InspectionConfig(Strict):
    name: str = Field(min_length=1, max_length=100, description="The checklist's name (e.g. Monthly check).")
    items: list[str] = Field(
        min_length=1, max_length=50, description="What is checked (e.g. housing, lens, picture, time)."
    )
    cameras: list[str] = Field(default_factory=list, description="Camera ids it covers.")
    sites: list[str] = Field(default_factory=list, description="Sites it covers; no cameras nor sites: every camera.")
    every_days: float = Field(default=30, gt=0, le=3660, description="How often each camera is inspected.")
    grace_days: float = Field(default=3, ge=0, le=365, description="Not done this long after it fell due: a ticket.")

    @field_validator("items")
    @classmethod
    def _items(cls, value: list[str]) -> list[str]:
        clean = [v.strip() for v in value]
        if any(not v for v in clean):
            raise ValueError("an item must not be empty")
        if len(set(clean)) != len(clean):
            raise ValueError("an item is named twice")
        return clean

    def schedule(self) -> Schedule:
        return Schedule(
            self.name,
            tuple(self.items),
            self.every_days,
            self.grace_days,
            frozenset(self.cameras),
            frozenset(self.sites),
        )


class DisksConfig(Strict):
    smart: bool = Field(default=True, description="Read the recording disk's SMART health with smartctl.")
    smartctl: str = Field(default="smartctl", min_length=1, description="The smartctl program (Debian smartmontools).")
    check_interval_s: float = Field(default=3600, ge=10, le=7 * 86400, description="How often the disk is looked at.")


class QualityConfig(Strict):
    """The daily picture-quality check (``vigil.domain.degradation``): each camera measured on recorded pictures of
    one hour by day and one by night, against its own baseline."""

    enabled: bool = Field(default=True, description="Measure each camera's picture daily; a slow decline: a ticket.")
    day_hour: int = Field(default=12, ge=0, le=23, description="The hour (site time) measured as the day picture.")
    night_hour: int = Field(default=2, ge=0, le=23, description="The hour (site time) measured as the night picture.")
    frames: int = Field(
        default=5, ge=1, le=30, description="Pictures measured in that hour (keyframes spread over it)."
    )
    baseline_samples: int = Field(
        default=7, ge=3, le=60, description="The first samples after a camera's install, replacement or cleaning."
    )
    window: int = Field(default=3, ge=1, le=30, description="The latest samples compared with the baseline.")
    sharp_ratio: float = Field(default=0.85, gt=0, lt=1, description="Sharpness below this share: dirt, fog.")
    contrast_ratio: float = Field(default=0.88, gt=0, lt=1, description="Contrast below this share: haze.")
    dark_ratio: float = Field(default=0.85, gt=0, lt=1, description="Brightness below this share: a failing light.")
    noise_ratio: float = Field(default=1.8, gt=1, le=100, description="Noise above this many times: gain rising.")
    cast_shift: float = Field(default=8.0, gt=0, le=100, description="Colour cast moved this far (CIELAB a*b*).")
    spread_k: float = Field(
        default=4.0, ge=0, le=50, description="... and beyond this many times the baseline's own day-to-day spread."
    )

    @model_validator(mode="after")
    def _hours(self) -> QualityConfig:
        if self.day_hour == self.night_hour:
            raise ValueError("day_hour and night_hour must differ")
        return self

    def settings(self) -> DegradationSettings:
        return DegradationSettings(
            baseline_samples=self.baseline_samples,
            window=self.window,
            sharp_ratio=self.sharp_ratio,
            contrast_ratio=self.contrast_ratio,
            dark_ratio=self.dark_ratio,
            noise_ratio=self.noise_ratio,
            cast_shift=self.cast_shift,
            spread_k=self.spread_k,
        )


class TicketNotifyConfig(Strict):
    channels: list[str] = Field(
        default_factory=list, description="Notification channels told of tickets (MQTT: vigil/tickets)."
    )
    changes: list[TicketNotice] = Field(
        default_factory=_default_notices,
        description="Which changes are told: opened, reopened, overdue, verified, not_verified, resolved, closed.",
    )


class MaintenanceSettingsConfig(Strict):
    enabled: bool = Field(default=True, description="Open tickets from faults (tickets by hand work regardless).")
    thresholds_s: ThresholdsConfig = Field(default_factory=ThresholdsConfig, description="Per fault kind: seconds.")
    priorities: PrioritiesConfig = Field(default_factory=PrioritiesConfig, description="Per kind: the priority.")
    service_levels: dict[int, ServiceLevelConfig] = Field(
        default_factory=lambda: dict(DEFAULT_LEVELS),
        description="Per priority (1-4): respond_s and restore_s. An overdue ticket raises a ticket_overdue event "
        "(alarm rules and notification routes may take it) and tells the ticket channels.",
    )
    reopen_window_s: float = Field(
        default=86400, ge=0, le=90 * 86400, description="The same fault back within this time reopens its ticket."
    )
    verify_s: float = Field(
        default=300, ge=0, le=7 * 86400, description="A repair is verified once the picture is healthy this long."
    )
    verify_grace_s: float = Field(
        default=120, ge=0, le=86400, description="A fault still there this long after a resolve fails verification."
    )
    auto_resolve: bool = Field(
        default=True, description="A fault that clears by itself resolves its ticket (then verified as any repair)."
    )
    close_verified_after_s: float | None = Field(
        default=86400, ge=0, description="Verified tickets close by themselves after this long (none: by hand)."
    )
    group_window_s: float = Field(
        default=15, ge=0, le=600, description="Cameras behind one piece of equipment dropping within this: one ticket."
    )
    group_min_share: float = Field(
        default=0.5, gt=0, le=1, description="... when they are at least this share of the cameras behind it."
    )
    stream_norms: StreamNormsConfig = Field(default_factory=StreamNormsConfig, description="Low frame rate, bitrate.")
    restart_loop: RestartLoopConfig = Field(default_factory=RestartLoopConfig, description="Processes in a loop.")
    notify: TicketNotifyConfig = Field(default_factory=TicketNotifyConfig, description="Who is told of tickets.")
    inspections: list[InspectionConfig] = Field(
        default_factory=list, description="Routine inspections: checklists per group of cameras on a schedule."
    )
    quality: QualityConfig = Field(
        default_factory=QualityConfig, description="The daily picture-quality check (slow degradation)."
    )
    disks: DisksConfig = Field(
        default_factory=DisksConfig, description="Vigil's own disk: SMART, writes that fail; problems open tickets."
    )
    node_id: str = Field(
        default="vigil",
        pattern=r"^[a-z0-9][a-z0-9_.:-]{0,62}$",
        description="This node's id in the equipment register (its disk is <node_id>:disk).",
    )
    documents_max_bytes: int = Field(
        default=20 * 2**20, ge=1024, le=2**30, description="Largest document (datasheet, photo) kept in the register."
    )
    check_interval_s: float = Field(default=1.0, gt=0, le=60, description="How often faults and deadlines are checked.")

    @field_validator("service_levels")
    @classmethod
    def _levels(cls, value: dict[int, ServiceLevelConfig]) -> dict[int, ServiceLevelConfig]:
        for priority, level in value.items():
            if priority not in PRIORITIES:
                raise ValueError(f"priority {priority} is not one of 1, 2, 3, 4")
            if level.restore_s < level.respond_s:
                raise ValueError(f"priority {priority}: restore_s must not be shorter than respond_s")
        return {**DEFAULT_LEVELS, **value}

    def levels(self) -> dict[int, ServiceLevel]:
        return {p: ServiceLevel(v.respond_s, v.restore_s) for p, v in self.service_levels.items()}
