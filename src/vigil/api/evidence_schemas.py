"""JSON shapes of evidence packages and legal holds."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vigil.domain.evidence import MAX_CAMERAS, MAX_TEXT_CHARS, PackageRecord
from vigil.domain.holds import LegalHold
from vigil.domain.timeutil import iso_from_us


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EvidenceIn(Strict):
    cameras: list[str] = Field(min_length=1, max_length=MAX_CAMERAS, description="Camera ids")
    start: str | int = Field(description="ISO 8601 time or UTC microseconds")
    end: str | int = Field(description="ISO 8601 time or UTC microseconds")
    stream: Literal["main", "sub"] = "main"
    reason: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="Why (always required: it holds footage)")
    recipient: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="Who receives the package")
    include_events: bool = Field(default=True, description="Add the events in the range, with their snapshots")
    unmasked: bool = Field(
        default=False,
        description="The original pictures, without the cameras' privacy masks (needs view_unmasked on every camera); "
        "by default masks are burned into clips and snapshots",
    )
    redact: list[str] = Field(
        default_factory=list,
        max_length=3,
        description="Also make a redacted package for dissemination, hiding: faces, plates, people",
    )
    redact_style: Literal["blur", "pixelate"] = Field(default="blur", description="How redacted regions are hidden")


class EvidenceOut(BaseModel):
    id: str
    created: str
    created_us: int
    requested_by: str
    reason: str
    recipient: str
    cameras: list[str]
    stream: str
    start: str
    start_us: int
    end: str
    end_us: int
    manifest_sha256: str = Field(description="SHA-256 of the signed manifest.json")
    key_fingerprint: str = Field(description="SHA-256 of the site's Ed25519 public key that signed it")
    file_count: int
    size_bytes: int
    gap_count: int = Field(description="Stretches of the range with no footage (each explained in the manifest)")
    masks_applied: bool = Field(description="Privacy masks were burned into its pictures")
    redaction_of: str | None = Field(description="A redacted package: the id of the original it was made from")
    redacted: list[str] = Field(description="What a redacted package hides: faces, plates, people")
    redacted_package: EvidenceOut | None = Field(
        default=None, description="The redacted package made with this one (when the export asked for one)"
    )
    download_url: str

    @classmethod
    def of(cls, r: PackageRecord) -> EvidenceOut:
        return cls(
            id=r.id,
            created=iso_from_us(r.created_us),
            created_us=r.created_us,
            requested_by=r.requested_by,
            reason=r.reason,
            recipient=r.recipient,
            cameras=list(r.cameras),
            stream=r.stream,
            start=iso_from_us(r.start_us),
            start_us=r.start_us,
            end=iso_from_us(r.end_us),
            end_us=r.end_us,
            manifest_sha256=r.manifest_sha256,
            key_fingerprint=r.key_fingerprint,
            file_count=r.file_count,
            size_bytes=r.size_bytes,
            gap_count=r.gap_count,
            masks_applied=r.masks_applied,
            redaction_of=r.redaction_of,
            redacted=[k for k in r.redacted.split(",") if k],
            download_url=f"/api/v1/evidence/{r.id}/package.zip",
        )


class HoldIn(Strict):
    camera: str = Field(min_length=1, max_length=64)
    start: str | int = Field(description="ISO 8601 time or UTC microseconds")
    end: str | int = Field(description="ISO 8601 time or UTC microseconds")
    reason: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="The order or case")


class HoldLiftIn(Strict):
    reason: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class HoldOut(BaseModel):
    id: int
    camera_id: str
    start: str
    start_us: int
    end: str
    end_us: int
    active: bool
    placed: str
    placed_by: str
    reason: str
    package_id: str | None
    lifted: str | None
    lifted_by: str | None
    lift_reason: str | None

    @classmethod
    def of(cls, h: LegalHold) -> HoldOut:
        return cls(
            id=h.id,
            camera_id=h.camera_id,
            start=iso_from_us(h.start_us),
            start_us=h.start_us,
            end=iso_from_us(h.end_us),
            end_us=h.end_us,
            active=h.active,
            placed=iso_from_us(h.placed_us),
            placed_by=h.placed_by,
            reason=h.reason,
            package_id=h.package_id,
            lifted=iso_from_us(h.lifted_us) if h.lifted_us is not None else None,
            lifted_by=h.lifted_by,
            lift_reason=h.lift_reason,
        )
