"""The models of ``vigil.yaml``. Unknown keys are rejected; every field says what it is for.

Validation here is pure: it never touches the disk or the network (the loader reads the file, the runtime
creates folders).
"""

from __future__ import annotations

import os
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from vigil.config.alarms import AlarmsConfig
from vigil.config.maintenance import MaintenanceSettingsConfig
from vigil.config.notifications import NotificationsConfig
from vigil.config.tiers import (
    HOT,
    BackupConfig,
    CopyRule,
    LifecycleRule,
    MoverConfig,
    ReadCacheConfig,
    ScrubConfig,
    TierConfig,
)
from vigil.config.units import ByteSize
from vigil.domain.errors import ConfigError
from vigil.domain.geometry import check_line, check_polygon
from vigil.domain.privacy import Masks, as_masks
from vigil.domain.rules import Rule, RuleKind, Schedule
from vigil.domain.tiers import Rule as TierRule
from vigil.domain.tiers import short_of_minimum

_ID = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StreamConfig(Strict):
    url: str = Field(
        description="rtsp://, rtsps:// or file:// address of the stream. Credentials may be written in the URL, "
        "but prefer username/password or password_env so the URL can be shown."
    )
    username: str | None = Field(default=None, description="User name for the camera, if not in the URL.")
    password: SecretStr | None = Field(default=None, description="Password for the camera (never logged).")
    password_env: str | None = Field(
        default=None, description="Name of an environment variable that holds the password."
    )

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("rtsp", "rtsps", "file"):
            raise ValueError(f"must start with rtsp://, rtsps:// or file:// (got {redact_url(value)!r})")
        if parts.scheme != "file" and not parts.hostname:
            raise ValueError(f"has no host: {redact_url(value)!r}")
        if parts.scheme == "file" and not parts.path:
            raise ValueError("file:// URL has no path")
        return value

    @model_validator(mode="after")
    def _one_password(self) -> StreamConfig:
        if self.password is not None and self.password_env is not None:
            raise ValueError("give password or password_env, not both")
        return self

    def __repr_args__(self) -> Any:
        for key, value in super().__repr_args__():
            yield key, (redact_url(value) if key == "url" and isinstance(value, str) else value)

    @property
    def is_file(self) -> bool:
        return self.url.startswith("file://")

    def display_url(self) -> str:
        """The URL with any password replaced by ``***``: the only form that may be logged or shown."""
        return redact_url(self.url)

    def open_url(self, environ: dict[str, str] | None = None) -> str:
        """The URL with credentials filled in, for opening the stream only."""
        env = os.environ if environ is None else environ
        password: str | None = None
        if self.password is not None:
            password = self.password.get_secret_value()
        elif self.password_env is not None:
            password = env.get(self.password_env)
            if password is None:
                raise ValueError(f"environment variable {self.password_env} is not set")
        if self.is_file or (self.username is None and password is None):
            return self.url
        parts = urlsplit(self.url)
        user = quote(self.username if self.username is not None else (parts.username or ""), safe="")
        netloc = user
        if password is not None:
            netloc += ":" + quote(password, safe="")
        host = parts.hostname or ""
        netloc += "@" + host + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

    def file_path(self) -> str:
        return urlsplit(self.url).path


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class StreamsConfig(Strict):
    main: StreamConfig = Field(description="The recorded stream (full resolution).")
    sub: StreamConfig | None = Field(default=None, description="Optional low-resolution stream for analysis.")


class DeviceConfig(Strict):
    """The camera's device record in the equipment register starts from these values; a value changed here later
    is applied again, one changed in the console stays until this file changes it (ADR 0015)."""

    model: str | None = Field(default=None, description="Camera make and model.")
    serial: str | None = Field(default=None, description="Serial number.")
    installed: date | None = Field(default=None, description="Installation date (YYYY-MM-DD).")
    notes: str | None = Field(default=None, description="Free notes for the maintenance team.")
    firmware: str | None = Field(default=None, description="Firmware version.")
    vendor: str | None = Field(default=None, description="Who maintains it (their technicians see it).")
    warranty_end: date | None = Field(default=None, description="Warranty end (YYYY-MM-DD).")
    lens: str | None = Field(default=None, description="Lens (e.g. 2.8 mm fixed).")
    fov_deg: float | None = Field(default=None, ge=1, le=360, description="Horizontal field of view, degrees.")
    mount_height_m: float | None = Field(default=None, ge=0, le=500, description="Mounting height, metres.")
    depends_on: list[str] = Field(
        default_factory=list,
        description="Equipment it needs, by register id, with the port after @ (e.g. sw-lobby@7, ups-1).",
    )


class CameraRetention(Strict):
    max_age_days: float | None = Field(
        default=None,
        gt=0,
        description="Delete footage older than this many days (none: keep until space is needed).",
    )
    min_days: float | None = Field(
        default=None,
        ge=0,
        description="Legal minimum retention for this camera; overrides storage.min_retention_days.",
    )


class CameraPurpose(Strict):
    max_view_age_days: float | None = Field(
        default=None,
        gt=0,
        description="Purpose limit: footage older than this many days may not be played back or exported unless "
        "a legal hold covers it (none: no limit).",
    )


def _geometry(check: Any, *args: Any) -> None:
    """Run a domain geometry check inside a pydantic validator (which reports ValueErrors with the key's path)."""
    try:
        check(*args)
    except ConfigError as exc:
        raise ValueError(exc.message) from None


Points = list[tuple[float, float]]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"


class ZoneConfig(Strict):
    name: str = Field(min_length=1, description="Name shown in events (e.g. Loading dock).")
    points: Points = Field(description="Corners as [x, y] fractions of the picture (0-1, from the top left).")

    @model_validator(mode="after")
    def _polygon(self) -> ZoneConfig:
        _geometry(check_polygon, f"zone '{self.name}'", self.points)
        return self


class LineConfig(Strict):
    name: str = Field(min_length=1, description="Name shown in events (e.g. Gate).")
    points: tuple[tuple[float, float], tuple[float, float]] = Field(
        description="The line's two ends as [x, y] fractions; directions are named looking from first to second."
    )

    @model_validator(mode="after")
    def _line(self) -> LineConfig:
        _geometry(check_line, f"line '{self.name}'", *self.points)
        return self


class ScheduleConfig(Strict):
    days: list[Day] = Field(
        default_factory=lambda: list(DAYS), description="Days it is armed (a night belongs to the day it starts)."
    )
    start: str = Field(default="00:00", pattern=_HHMM, description="Armed from (local time, HH:MM).")
    end: str = Field(default="24:00", pattern=_HHMM, description="Armed until (before start: past midnight).")


class RuleConfig(Strict):
    name: str = Field(min_length=1, description="The rule's name, shown in events.")
    kind: Literal["zone_enter", "zone_exit", "line_cross", "loiter", "crowd", "left_behind", "removed"] = Field(
        description="What the rule watches for."
    )
    zone: str | None = Field(
        default=None, description="Zone name (zone_enter/exit, loiter, crowd; optional for left_behind/removed)."
    )
    line: str | None = Field(default=None, description="Line name (line_cross).")
    labels: list[str] = Field(
        default_factory=lambda: ["person"], min_length=1, description="Object labels it applies to."
    )
    direction: Literal["both", "left_to_right", "right_to_left"] = Field(
        default="both", description="line_cross: which way counts."
    )
    min_s: float = Field(
        default=0.0, ge=0, description="loiter: dwell; crowd: how long; left_behind/removed: standing time."
    )
    min_count: int = Field(default=2, ge=2, description="crowd: at least this many.")
    schedule: list[ScheduleConfig] = Field(default_factory=list, description="When it is armed; empty: always.")


class CameraAnalysisConfig(Strict):
    enabled: bool = Field(default=True, description="Analyse this camera (when analysis is enabled globally).")
    stream: Literal["auto", "main", "sub"] = Field(
        default="auto", description="Stream to analyse; auto: the sub stream when there is one, else main."
    )
    motion: bool = Field(default=True, description="Report motion as events.")
    faults: bool = Field(default=True, description="Report picture faults (frozen, black, blurred...) as events.")
    detect: bool = Field(
        default=True, description="Look for people and vehicles where there is motion (needs analysis.detector)."
    )
    object_events: bool = Field(default=True, description="Report every person or vehicle followed as an event.")
    motion_mask: list[Points] = Field(
        default_factory=list, description="Polygons whose motion is ignored (a clock overlay, a flag, a road)."
    )
    zones: list[ZoneConfig] = Field(default_factory=list, description="Named areas rules refer to.")
    lines: list[LineConfig] = Field(default_factory=list, description="Named tripwires rules refer to.")
    rules: list[RuleConfig] = Field(default_factory=list, description="What to report about people and vehicles.")

    @model_validator(mode="after")
    def _references(self) -> CameraAnalysisConfig:
        for k, polygon in enumerate(self.motion_mask, start=1):
            _geometry(check_polygon, f"motion_mask polygon {k}", polygon)
        zones, lines = {z.name for z in self.zones}, {ln.name for ln in self.lines}
        for names, what in ((self.zones, "zone"), (self.lines, "line"), (self.rules, "rule")):
            seen = [n.name for n in names]
            dupes = sorted({n for n in seen if seen.count(n) > 1})
            if dupes:
                raise ValueError(f"{what} name {dupes[0]!r} is used twice")
        for rule in self.rules:
            where = f"rule {rule.name!r}"
            if rule.kind == "line_cross":
                if rule.line is None:
                    raise ValueError(f"{where}: line_cross needs a line")
                if rule.line not in lines:
                    raise ValueError(
                        f"{where}: no line named {rule.line!r} (lines: {', '.join(sorted(lines)) or 'none'})"
                    )
            elif rule.zone is None and rule.kind not in ("left_behind", "removed"):
                raise ValueError(f"{where}: {rule.kind} needs a zone")
            if rule.zone is not None and rule.zone not in zones:
                known = ", ".join(sorted(zones)) or "none"
                raise ValueError(f"{where}: no zone named {rule.zone!r} (zones: {known})")
            if rule.kind == "loiter" and rule.min_s <= 0:
                raise ValueError(f"{where}: loiter needs min_s, the dwell in seconds")
        return self

    def domain_rules(self) -> tuple[Rule, ...]:
        """The rules as the rule engine takes them (geometry resolved by name, schedules in minutes)."""
        zones = {z.name: tuple(z.points) for z in self.zones}
        lines = {ln.name: ln.points for ln in self.lines}
        return tuple(
            Rule(
                name=r.name,
                kind=RuleKind(r.kind),
                labels=frozenset(r.labels),
                zone=r.zone or r.line or "",
                polygon=zones.get(r.zone, ()) if r.zone else (),
                line=lines.get(r.line) if r.line else None,
                direction=r.direction,
                min_s=r.min_s,
                min_count=r.min_count,
                schedules=tuple(
                    Schedule(frozenset(DAYS.index(d) for d in sc.days), _minutes(sc.start), _minutes(sc.end))
                    for sc in r.schedule
                ),
            )
            for r in self.rules
        )


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


class CameraConfig(Strict):
    id: str = Field(pattern=_ID, description="Short stable id: lower-case letters, digits, '-' and '_'.")
    name: str = Field(min_length=1, description="Name shown to people.")
    site: str = Field(default="default", description="Site (building, campus) the camera belongs to.")
    location: str = Field(default="", description="Where the camera is, in words.")
    enabled: bool = Field(default=True, description="Disabled cameras are listed but not recorded.")
    record: bool = Field(default=True, description="Record the main stream continuously.")
    streams: StreamsConfig = Field(description="The camera's streams.")
    device: DeviceConfig = Field(
        default_factory=lambda: DeviceConfig(), description="Register data: model, serial, install date."
    )
    retention: CameraRetention = Field(default_factory=CameraRetention, description="Per-camera retention.")
    purpose: CameraPurpose = Field(
        default_factory=CameraPurpose, description="What the footage may be used for: how long it may be viewed."
    )
    analysis: CameraAnalysisConfig = Field(
        default_factory=CameraAnalysisConfig, description="What the analysis watches for on this camera."
    )
    privacy_masks: list[Points] = Field(
        default_factory=list,
        description="Polygons ([x, y] fractions of the picture) filled in on every picture a person without the "
        "view_unmasked permission receives: live, playback, clips, snapshots and exports (a neighbour's window).",
    )

    @model_validator(mode="after")
    def _privacy_masks(self) -> CameraConfig:
        for k, polygon in enumerate(self.privacy_masks, start=1):
            _geometry(check_polygon, f"privacy_masks polygon {k}", polygon)
        return self

    def masks(self) -> Masks:
        """The privacy masks as the domain takes them."""
        return as_masks(self.privacy_masks)


class StorageConfig(Strict):
    root: str = Field(default="./vigil-data/recordings", description="Folder that holds the segment files.")
    catalog_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the catalog database; default: SQLite file vigil.db beside the root folder.",
    )
    max_bytes: ByteSize | None = Field(default=None, description="Most bytes of footage to keep (e.g. 2TB).")
    max_percent: float | None = Field(
        default=90.0, gt=0, le=100, description="Most the volume may be filled, in percent (all files)."
    )
    reserve_free: ByteSize = Field(default=256 * 2**20, description="Free space always kept on the volume.")
    min_retention_days: float = Field(
        default=30.0,
        ge=0,
        description="Legal minimum retention; the size rule never deletes younger footage.",
    )
    sweep_interval_s: float = Field(default=30.0, gt=0, description="How often retention runs.")
    tiers: list[TierConfig] = Field(
        default_factory=list,
        description="Where footage goes after the hot disk: S3-compatible stores and folders on other disks.",
    )
    lifecycle: list[LifecycleRule] = Field(
        default_factory=list,
        description="When footage leaves the hot disk for a tier, and how long it is kept there (first match wins).",
    )
    copies: list[CopyRule] = Field(
        default_factory=list, description="Footage copied to a second tier as soon as it is written."
    )
    mover: MoverConfig = Field(default_factory=MoverConfig, description="The mover that copies footage to tiers.")
    certificates: Literal["off", "day", "week", "month"] = Field(
        default="month",
        description="A signed destruction certificate for each period that ends (off, day, week or month).",
    )
    backup: BackupConfig = Field(
        default_factory=BackupConfig, description="Scheduled backups of the node itself (not the footage) to a tier."
    )
    scrub: ScrubConfig = Field(
        default_factory=ScrubConfig, description="Reading hot files and copies back to find and heal damage."
    )
    read_cache: ReadCacheConfig = Field(
        default_factory=ReadCacheConfig, description="Archived footage fetched for reading, kept on the hot disk."
    )


class RecordingConfig(Strict):
    segment_duration_s: float = Field(default=60.0, ge=1, le=3600, description="Target segment length.")
    reconnect_initial_s: float = Field(default=1.0, gt=0, description="First wait before reconnecting.")
    reconnect_max_s: float = Field(default=30.0, gt=0, description="Longest wait between reconnects.")
    socket_timeout_s: float = Field(default=10.0, gt=0, description="No packet for this long: stream lost.")
    rtsp_transport: Literal["tcp", "udp"] = Field(default="tcp", description="RTSP transport.")
    rtsp_reader: Literal["vigil", "ffmpeg"] = Field(
        default="vigil",
        description="Who reads RTSP cameras and writes their segments: vigil (Vigil's own reader and MP4 writer, "
        "H.264 and H.265 over TCP; other codecs and UDP go to FFmpeg anyway) or ffmpeg (FFmpeg's, through PyAV).",
    )
    streams_per_worker: int = Field(default=8, ge=1, le=256, description="Streams per recorder process.")
    health_interval_s: float = Field(default=2.0, gt=0, description="How often stream health is reported.")


DEFAULT_LABELS = ["person", "bicycle", "car", "motorcycle", "bus", "truck"]


class DetectorConfig(Strict):
    enabled: bool = Field(default=True, description="Run the object detector (one process for all cameras).")
    model: str | None = Field(
        default=None, description="A YOLOv5/v8 ONNX file of your own (kind: yolo); default: the bundled NanoDet-g."
    )
    kind: Literal["nanodet", "yolo"] = Field(default="nanodet", description="How the model's output is read.")
    class_names: list[str] = Field(
        default_factory=list, description="Your model's classes in output order (default: COCO-80)."
    )
    input_width: int = Field(default=416, ge=32, le=1920, multiple_of=32, description="Model input width.")
    input_height: int = Field(default=416, ge=32, le=1920, multiple_of=32, description="Model input height.")
    labels: list[str] = Field(
        default_factory=lambda: list(DEFAULT_LABELS), min_length=1, description="Labels reported (COCO names)."
    )
    min_score: float = Field(default=0.35, gt=0, lt=1, description="Lowest score reported.")
    label_min_score: dict[str, Annotated[float, Field(gt=0, lt=1)]] = Field(
        default_factory=dict, description="Per label: a higher (or lower) lowest score."
    )
    label_min_height: dict[str, Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict, description="Per label: smallest box height, in pixels of the detection picture."
    )
    picture_width: int = Field(
        default=640, ge=160, le=1920, description="Width of the colour picture detection (and snapshots) use."
    )
    threads: int = Field(default=1, ge=1, le=64, description="CPU threads the detector uses.")

    @model_validator(mode="after")
    def _labels(self) -> DetectorConfig:
        for what, names in (("label_min_score", self.label_min_score), ("label_min_height", self.label_min_height)):
            unknown = sorted(set(names) - set(self.labels))
            if unknown:
                raise ValueError(f"{what} names {unknown[0]!r}, which is not in labels")
        if self.model is None and self.kind != "nanodet":
            raise ValueError("kind yolo needs model: the path of your ONNX file")
        return self


class AnalysisConfig(Strict):
    enabled: bool = Field(default=True, description="Run picture analysis (motion, faults, objects) at all.")
    fps: float = Field(default=5.0, gt=0, le=30, description="Frames analysed per second per camera.")
    width: int = Field(default=320, ge=64, le=1920, description="Width of the analysed picture, in pixels.")
    cameras_per_worker: int = Field(default=8, ge=1, le=64, description="Cameras per analysis process.")
    detector: DetectorConfig = Field(default_factory=DetectorConfig, description="The object detector.")


class ServerConfig(Strict):
    host: str = Field(default="127.0.0.1", description="Address the web server listens on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port of the web server (0: any free port).")


class SecurityConfig(Strict):
    session_hours: float = Field(default=12, gt=0, le=24 * 30, description="How long a console login lasts.")
    require_reason_for: list[Literal["playback", "export", "config_change"]] = Field(
        default_factory=list,
        description="Acts that need a reason written to the audit log (playback, export, config_change).",
    )


class SiteConfig(Strict):
    name: str = Field(default="Vigil", description="Name of the site shown in the console.")
    timezone: str = Field(default="UTC", description="IANA time zone used to show times (e.g. Asia/Shanghai).")
    language: Literal["en", "zh"] = Field(
        default="en", description="Language of what Vigil writes on its own (notification e-mails): en or zh."
    )

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class Config(Strict):
    site: SiteConfig = Field(default_factory=SiteConfig, description="The site.")
    storage: StorageConfig = Field(default_factory=StorageConfig, description="Where and how long footage lives.")
    recording: RecordingConfig = Field(default_factory=RecordingConfig, description="Recorder settings.")
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig, description="Picture analysis.")
    server: ServerConfig = Field(default_factory=ServerConfig, description="Web server.")
    security: SecurityConfig = Field(default_factory=SecurityConfig, description="Logins and reasons for access.")
    cameras: list[CameraConfig] = Field(default_factory=list, description="The cameras.")
    notifications: NotificationsConfig = Field(
        default_factory=NotificationsConfig, description="Webhooks, MQTT and e-mail about events."
    )
    alarms: AlarmsConfig = Field(
        default_factory=AlarmsConfig, description="Alarms: rules, escalation, folding, maintenance, emergency plans."
    )
    maintenance: MaintenanceSettingsConfig = Field(
        default_factory=MaintenanceSettingsConfig,
        description="Maintenance tickets: when faults open them, priorities, service levels, verification.",
    )

    @model_validator(mode="after")
    def _unique_and_lawful(self) -> Config:
        seen: set[str] = set()
        for k, route in enumerate(self.notifications.routes):
            unknown = sorted(set(route.cameras) - {c.id for c in self.cameras})
            if unknown:
                raise ValueError(f"notifications.routes[{k}]: no camera with id {unknown[0]!r}")
        self._check_alarms()
        for cam in self.cameras:
            if cam.id in seen:
                raise ValueError(f"camera id {cam.id!r} is used twice")
            seen.add(cam.id)
            self._check_rules(cam)
            min_days = self.min_days_for(cam)
            if cam.retention.max_age_days is not None and cam.retention.max_age_days < min_days:
                raise ValueError(
                    f"camera {cam.id!r}: retention.max_age_days ({cam.retention.max_age_days:g}) is shorter than "
                    f"the legal minimum of {min_days:g} days"
                )
        self._check_tiers()
        return self

    def _check_tiers(self) -> None:
        """Lifecycle and copy rules name cameras that exist, and keep footage at least its legal minimum."""
        cameras = {c.id for c in self.cameras}
        s = self.storage
        names = [t.name for t in s.tiers]
        for k, tier in enumerate(s.tiers):
            if tier.name == HOT:
                raise ValueError(f"storage.tiers[{k}].name: {HOT!r} is the local disk under storage.root; pick another")
            if names.count(tier.name) > 1:
                raise ValueError(f"storage.tiers[{k}].name: {tier.name!r} is used twice")
        known = ", ".join(names) or "none"
        named = [(f"storage.lifecycle[{k}]", r.tier) for k, r in enumerate(s.lifecycle)]
        named += [(f"storage.copies[{k}]", r.tier) for k, r in enumerate(s.copies)]
        named += [("storage.backup", s.backup.tier)] if s.backup.tier is not None else []
        for where, name in named:
            if name not in names:
                raise ValueError(f"{where}.tier: no tier named {name!r} (tiers: {known})")
        scoped = [(f"storage.lifecycle[{k}]", r.cameras) for k, r in enumerate(s.lifecycle)]
        scoped += [(f"storage.copies[{k}]", r.cameras) for k, r in enumerate(s.copies)]
        for where, ids in scoped:
            unknown = sorted(set(ids) - cameras)
            if unknown:
                raise ValueError(f"{where}.cameras: no camera with id {unknown[0]!r}")
        rules = [TierRule(frozenset(r.cameras), r.footage, r.tier, r.hot_days, r.tier_days) for r in s.lifecycle]
        short = short_of_minimum(rules, {c.id: self.min_days_for(c) for c in self.cameras}, s.min_retention_days)
        if short:
            raise ValueError(f"storage.lifecycle{short[0]}")

    def _check_alarms(self) -> None:
        """Alarm rules, escalation steps and maintenance windows name channels and cameras that exist."""
        channels = [c.name for c in self.notifications.channels]
        cameras = {c.id for c in self.cameras}
        alarms = self.alarms
        routings = [(f"alarms.rules[{k}] ({r.name!r}).routing", r.routing) for k, r in enumerate(alarms.rules)]
        routings += [(f"alarms.escalation.steps[{k}]", s) for k, s in enumerate(alarms.escalation.steps)]
        for where, routing in routings:
            unknown = sorted(set(routing.channels) - set(channels))
            if unknown:
                known = ", ".join(channels) or "none"
                raise ValueError(f"{where}: no notification channel named {unknown[0]!r} (channels: {known})")
        scoped = [(f"alarms.rules[{k}] ({r.name!r})", r.cameras) for k, r in enumerate(alarms.rules)]
        scoped += [(f"alarms.maintenance[{k}] ({m.name!r})", m.cameras) for k, m in enumerate(alarms.maintenance)]
        for where, ids in scoped:
            unknown = sorted(set(ids) - cameras)
            if unknown:
                raise ValueError(f"{where}: no camera with id {unknown[0]!r}")
        names = [i.name for i in self.maintenance.inspections]
        for k, inspection in enumerate(self.maintenance.inspections):
            where = f"maintenance.inspections[{k}] ({inspection.name!r})"
            if names.count(inspection.name) > 1:
                raise ValueError(f"{where}: the name is used twice")
            unknown_cameras = sorted(set(inspection.cameras) - cameras)
            if unknown_cameras:
                raise ValueError(f"{where}: no camera with id {unknown_cameras[0]!r}")
        unknown = sorted(set(self.maintenance.notify.channels) - set(channels))
        if unknown:
            known = ", ".join(channels) or "none"
            raise ValueError(
                f"maintenance.notify.channels: no notification channel named {unknown[0]!r} (channels: {known})"
            )

    def _check_rules(self, cam: CameraConfig) -> None:
        """A rule must be able to fire: objects are detected on its camera, with the labels it watches for."""
        detector = self.analysis.detector
        for rule in cam.analysis.rules:
            where = f"camera {cam.id!r} rule {rule.name!r}"
            if not (detector.enabled and cam.analysis.detect):
                off = "analysis.detector.enabled" if not detector.enabled else f"camera {cam.id!r} analysis.detect"
                raise ValueError(f"{where} needs object detection, which is off ({off} is false)")
            unknown = sorted(set(rule.labels) - set(detector.labels))
            if unknown:
                raise ValueError(
                    f"{where} watches for {unknown[0]!r}, which the detector does not report "
                    f"(analysis.detector.labels: {', '.join(detector.labels)})"
                )

    def min_days_for(self, cam: CameraConfig) -> float:
        if cam.retention.min_days is not None:
            return cam.retention.min_days
        return self.storage.min_retention_days

    def camera(self, camera_id: str) -> CameraConfig | None:
        return next((c for c in self.cameras if c.id == camera_id), None)
