"""``storage.tiers``, ``storage.lifecycle``, ``storage.copies``, ``storage.mover`` and ``storage.read_cache`` in
``vigil.yaml``: where footage goes after the hot disk (ADR 0016). Tier names are checked against the rules, and the
rules against the legal minimum, by :class:`vigil.config.models.StorageConfig`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vigil.config.units import ByteSize

HOT = "hot"  # the local disk under storage.root: not a name a configured tier may take
TIER_NAME = r"^[a-z0-9][a-z0-9_-]{0,31}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class S3TierConfig(Strict):
    name: str = Field(pattern=TIER_NAME, description="The tier's name (e.g. archive).")
    kind: Literal["s3"] = Field(description="An S3-compatible object store (SeaweedFS, MinIO, Ceph, AWS S3, OSS, COS).")
    endpoint: str = Field(
        pattern=r"^https?://[^\s/]+(/.*)?$", description="The store's URL (e.g. http://127.0.0.1:8333)."
    )
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="The bucket (it must exist).")
    prefix: str = Field(default="", max_length=200, description="Keys start with this (e.g. site-a/).")
    region: str = Field(default="us-east-1", min_length=1, max_length=40, description="The region to sign for.")
    access_key_env: str = Field(
        default="VIGIL_S3_ACCESS_KEY", pattern=r"^[A-Z_][A-Z0-9_]*$", description="Variable holding the access key."
    )
    secret_key_env: str = Field(
        default="VIGIL_S3_SECRET_KEY", pattern=r"^[A-Z_][A-Z0-9_]*$", description="Variable holding the secret key."
    )
    object_lock: bool = Field(
        default=False, description="Write held footage with an object lock (the bucket must have object lock on)."
    )
    lock_days: float = Field(
        default=30, gt=0, le=3660, description="How far ahead a held object's lock reaches (renewed while held)."
    )
    timeout_s: float = Field(default=20, gt=0, le=600, description="Connect and read timeout of one request.")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if value.startswith("/") or ".." in value.split("/"):
            raise ValueError("must be relative, without '..'")
        return value


class LocalTierConfig(Strict):
    name: str = Field(pattern=TIER_NAME, description="The tier's name (e.g. nas).")
    kind: Literal["local"] = Field(description="A folder on another disk (a NAS mount, an external disk).")
    path: str = Field(min_length=1, description="The folder (it must exist: Vigil does not mount anything).")


TierConfig = Annotated[S3TierConfig | LocalTierConfig, Field(discriminator="kind")]
Footage = Literal["all", "continuous", "events"]


class LifecycleRule(Strict):
    """Footage of these cameras and kind leaves the hot disk after ``hot_days`` for ``tier``, and is kept there
    ``tier_days`` more (then destroyed like any footage past its time; none: until space is needed)."""

    cameras: list[str] = Field(default_factory=list, description="Camera ids; none: every camera.")
    footage: Footage = Field(
        default="all",
        description="all, continuous (segments without events) or events (segments with an event in them).",
    )
    hot_days: float = Field(ge=0, le=3660, description="Days on the hot disk before the move.")
    tier: str = Field(pattern=TIER_NAME, description="The tier it moves to.")
    tier_days: float | None = Field(
        default=None, gt=0, le=36600, description="Days kept on the tier after the move (none: no limit)."
    )


class CopyRule(Strict):
    """Footage of these cameras copied to a second tier as soon as it is written: one lost disk loses none of it."""

    cameras: list[str] = Field(min_length=1, description="Camera ids.")
    footage: Footage = Field(default="all", description="all, continuous or events.")
    tier: str = Field(pattern=TIER_NAME, description="The tier the copy goes to.")


class MoverConfig(Strict):
    rate: ByteSize = Field(
        default=40 * 2**20, description="Most bytes a second the mover uploads (so recording never suffers), e.g. 40MB."
    )
    interval_s: float = Field(default=10, gt=0, le=3600, description="How often it looks for footage to move.")
    parallel: int = Field(
        default=4, ge=1, le=32, description="Segments uploaded at once (object stores are faster with several)."
    )
    events_margin_s: float = Field(
        default=10, ge=0, le=3600, description="A segment within this of an event counts as event footage."
    )


class ReadCacheConfig(Strict):
    max_bytes: ByteSize = Field(default=2 * 2**30, description="Most bytes of archived footage kept for reading.")


class ScrubConfig(Strict):
    """The scrub reads every hot file and every copy back whole, now and then, and heals what it finds damaged."""

    rate: ByteSize = Field(
        default=8 * 2**20, description="Most bytes a second the scrub reads (it runs all the time, slowly), e.g. 8MB."
    )
    every_days: float = Field(
        default=30, gt=0, le=3660, description="Each file and copy is read back at least once in this many days."
    )
    interval_s: float = Field(default=60, gt=0, le=86400, description="How often it looks for what is due.")


class BackupConfig(Strict):
    """The node's own files (catalog, vigil.yaml and its history, plans, audit anchor, site key, evidence packages,
    certificates) backed up to a tier on a schedule; ``vigil restore`` brings a node back from them."""

    tier: str | None = Field(default=None, pattern=TIER_NAME, description="The tier backups go to (none: no backups).")
    every_hours: float = Field(default=24, gt=0, le=24 * 31, description="Hours between backups.")
    keep: int = Field(default=14, ge=1, le=1000, description="How many of the newest backups are kept.")
    passphrase_env: str = Field(
        default="VIGIL_BACKUP_PASSPHRASE",
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="Variable holding the passphrase the site key is sealed with (unset: the key is not backed up).",
    )
