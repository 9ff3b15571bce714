"""The models of ``vigil.yaml``. Unknown keys are rejected; every field says what it is for.

Validation here is pure: it never touches the disk or the network (the loader reads the file, the runtime
creates folders).
"""

from __future__ import annotations

import os
import re
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?i?b?)?\s*$", re.IGNORECASE)
_FACTORS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "m": 10**6,
    "g": 10**9,
    "t": 10**12,
    "p": 10**15,
    "ki": 2**10,
    "mi": 2**20,
    "gi": 2**30,
    "ti": 2**40,
    "pi": 2**50,
}


def _parse_size(value: object) -> object:
    """Accept ``500GB``, ``1.5 TiB``, ``2000000`` or an int; leave anything else for pydantic to refuse."""
    if isinstance(value, str):
        match = _SIZE.match(value)
        if not match:
            raise ValueError(f"not a size: {value!r} (use bytes or a unit such as 500GB, 2TiB)")
        unit = (match.group(2) or "").lower().removesuffix("b")
        return int(float(match.group(1)) * _FACTORS[unit])
    return value


ByteSize = Annotated[int, BeforeValidator(_parse_size), Field(ge=0)]
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
            raise ValueError(f"must start with rtsp://, rtsps:// or file:// (got {value!r})")
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
    model: str | None = Field(default=None, description="Camera make and model.")
    serial: str | None = Field(default=None, description="Serial number.")
    installed: date | None = Field(default=None, description="Installation date (YYYY-MM-DD).")
    notes: str | None = Field(default=None, description="Free notes for the maintenance team.")


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


class CameraAnalysisConfig(Strict):
    enabled: bool = Field(default=True, description="Analyse this camera (when analysis is enabled globally).")
    stream: Literal["auto", "main", "sub"] = Field(
        default="auto", description="Stream to analyse; auto: the sub stream when there is one, else main."
    )
    motion: bool = Field(default=True, description="Report motion as events.")
    faults: bool = Field(default=True, description="Report picture faults (frozen, black, blurred...) as events.")


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
    analysis: CameraAnalysisConfig = Field(
        default_factory=CameraAnalysisConfig, description="What the analysis watches for on this camera."
    )


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


class RecordingConfig(Strict):
    segment_duration_s: float = Field(default=60.0, ge=1, le=3600, description="Target segment length.")
    reconnect_initial_s: float = Field(default=1.0, gt=0, description="First wait before reconnecting.")
    reconnect_max_s: float = Field(default=30.0, gt=0, description="Longest wait between reconnects.")
    socket_timeout_s: float = Field(default=10.0, gt=0, description="No packet for this long: stream lost.")
    rtsp_transport: Literal["tcp", "udp"] = Field(default="tcp", description="RTSP transport.")
    streams_per_worker: int = Field(default=8, ge=1, le=256, description="Streams per recorder process.")
    health_interval_s: float = Field(default=2.0, gt=0, description="How often stream health is reported.")


class AnalysisConfig(Strict):
    enabled: bool = Field(default=True, description="Run picture analysis (motion, camera faults) at all.")
    fps: float = Field(default=5.0, gt=0, le=30, description="Frames analysed per second per camera.")
    width: int = Field(default=320, ge=64, le=1920, description="Width of the analysed picture, in pixels.")
    cameras_per_worker: int = Field(default=8, ge=1, le=64, description="Cameras per analysis process.")


class ServerConfig(Strict):
    host: str = Field(default="127.0.0.1", description="Address the web server listens on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port of the web server (0: any free port).")


class SiteConfig(Strict):
    name: str = Field(default="Vigil", description="Name of the site shown in the console.")
    timezone: str = Field(default="UTC", description="IANA time zone used to show times (e.g. Asia/Shanghai).")

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
    cameras: list[CameraConfig] = Field(default_factory=list, description="The cameras.")

    @model_validator(mode="after")
    def _unique_and_lawful(self) -> Config:
        seen: set[str] = set()
        for cam in self.cameras:
            if cam.id in seen:
                raise ValueError(f"camera id {cam.id!r} is used twice")
            seen.add(cam.id)
            min_days = self.min_days_for(cam)
            if cam.retention.max_age_days is not None and cam.retention.max_age_days < min_days:
                raise ValueError(
                    f"camera {cam.id!r}: retention.max_age_days ({cam.retention.max_age_days:g}) is shorter than "
                    f"the legal minimum of {min_days:g} days"
                )
        return self

    def min_days_for(self, cam: CameraConfig) -> float:
        if cam.retention.min_days is not None:
            return cam.retention.min_days
        return self.storage.min_retention_days

    def camera(self, camera_id: str) -> CameraConfig | None:
        return next((c for c in self.cameras if c.id == camera_id), None)
