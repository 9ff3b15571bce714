"""Exporting an evidence package (ADR 0008): clips, snapshots, records, a signed manifest, a chain of custody,
the verifier and a README, with a legal hold on the footage and every step in the audit log.

In order: the request is checked (cameras, range, reason, recipient) and the purpose limit of every camera against
the holds already there (a package's own hold cannot open footage its purpose closes); a legal hold is placed on
each camera's range (so retention cannot delete a source while it is read); the clips, gaps, events, snapshots
and audit entries are written into a staging package; the manifest lists every file with its SHA-256 and is signed
with the site key; custody entry 1 records the export; the package is published whole, registered, and the export
written to the audit log per camera. If anything fails, nothing is published and the holds placed are lifted again
(both acts audited).

Privacy (ADR 0012): each camera's privacy masks are burned into its clips and snapshots unless the request asks for
the original pictures (``unmasked``: the caller has checked that the exporter may view them unmasked); the manifest
records per camera whether masks were applied, and their polygons. A request that names ``redact`` kinds also gets
a redacted package (``vigil.usecases.evidence_redaction``), made from this package's files before either is
published, linked to it by its manifest's SHA-256, registered beside it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from vigil import __version__
from vigil.config.models import Config
from vigil.domain.audit import AuditAction
from vigil.domain.evidence import (
    FORMAT,
    EvidenceRequest,
    PackageRecord,
    check_request,
    clip_entry,
    document_bytes,
    key_fingerprint,
    moment,
    stamp,
)
from vigil.domain.holds import LegalHold
from vigil.domain.privacy import PictureTreatment
from vigil.ports import (
    AuditLog,
    Catalog,
    ClipWriter,
    Clock,
    EvidenceRegister,
    PackageBuilder,
    PackageFactory,
    PictureTreater,
    SegmentStore,
    Signer,
)
from vigil.usecases.evidence_footage import CameraFootage, SnapshotTreatment, event_records, events_of, export_camera
from vigil.usecases.evidence_redaction import Redacted, RedactionTools, redacted_path, write_redacted
from vigil.usecases.evidence_seal import Export, seal
from vigil.usecases.legal_holds import HoldClerk, check_purpose
from vigil.usecases.playback import MAX_CLIP_US, require_camera


@dataclass(frozen=True)
class EvidenceTools:
    """What exporting needs from outside, wired by the runtime."""

    config_of: Callable[[], Config]  # the configuration in force (it changes with the settings)
    catalog: Catalog
    store: SegmentStore
    audit: AuditLog
    clerk: HoldClerk
    register: EvidenceRegister
    signer: Signer
    clock: Clock
    write_clip: ClipWriter
    new_package: PackageFactory
    verifier_source: Callable[[], bytes]  # the text of verify_package.py
    snapshots: Path | None = None
    treat_picture: PictureTreater | None = None  # JPEGs masked or redacted (None: masked snapshots are left out)

    @property
    def config(self) -> Config:
        return self.config_of()


@dataclass(frozen=True, slots=True)
class ExportResult:
    record: PackageRecord
    manifest: dict[str, Any]
    holds: list[LegalHold]
    redacted: Redacted | None = None  # the redacted package, when one was asked for


def new_package_id(now_us: int) -> str:
    """``ev-20261124-3f2a9c1d``: the day it was made and 32 random bits (unique enough to name a case file by)."""
    return f"ev-{stamp(now_us)[:8]}-{secrets.token_hex(4)}"


class EvidenceExporter:
    def __init__(self, tools: EvidenceTools) -> None:
        self.tools = tools

    def export(
        self,
        request: EvidenceRequest,
        out: Path,
        *,
        package_id: str | None = None,
        actor: str | None = None,
        detail: Mapping[str, Any] | None = None,
        redacted_out: Path | None = None,
    ) -> ExportResult:
        """Write the package to ``out`` (a folder, or a zip when the name ends in .zip). ``actor`` is the audit log's
        actor (default: the person asking); ``detail`` is added to its entries. With ``request.redact``, the
        redacted package goes to ``redacted_out`` (default: beside ``out``, named ``<name>-redacted``)."""
        tools = self.tools
        req = check_request(request, MAX_CLIP_US)
        now = tools.clock.now_us()
        for camera_id in req.camera_ids:
            require_camera(tools.config, camera_id)
            check_purpose(tools.config, tools.clerk.holds, camera_id, req.start_us, req.end_us, now)
        package_id = package_id or new_package_id(now)
        who = actor or req.requested_by
        extra = dict(detail or {})
        package = tools.new_package(out)
        redacted_package: PackageBuilder | None = None
        redacted: Redacted | None = None
        holds: list[LegalHold] = []
        try:
            for camera_id in req.camera_ids:
                reason = f"evidence package {package_id}: {req.reason}"
                holds.append(
                    tools.clerk.place(
                        camera_id,
                        req.start_us,
                        req.end_us,
                        by=req.requested_by,
                        reason=reason,
                        client=req.client,
                        actor=who,
                        package_id=package_id,
                        detail=extra,
                    )
                )
            manifest, manifest_sha = self._write(package, req, package_id, now, holds)
            if req.redact:
                redacted_out = redacted_out or redacted_path(out)
                redacted_package = tools.new_package(redacted_out)
                helpers = RedactionTools(
                    tools.write_clip, tools.treat_picture, tools.signer, tools.verifier_source, tools.clock
                )
                redacted = write_redacted(helpers, package, manifest, manifest_sha, redacted_package, redacted_out)
            size = package.publish()
            if redacted_package is not None and redacted is not None:
                redacted.record = replace(redacted.record, size_bytes=redacted_package.publish())
        except BaseException:
            package.discard()
            if redacted_package is not None:
                redacted_package.discard()
            for hold in holds:
                tools.clerk.lift(
                    hold.id,
                    by=req.requested_by,
                    reason=f"export of {package_id} failed",
                    client=req.client,
                    actor=who,
                    detail=extra,
                )
            raise
        record = PackageRecord(
            id=package_id,
            created_us=now,
            requested_by=req.requested_by,
            client=req.client,
            reason=req.reason,
            recipient=req.recipient,
            cameras=req.camera_ids,
            stream=req.stream,
            start_us=req.start_us,
            end_us=req.end_us,
            path=str(out.resolve()),
            manifest_sha256=manifest_sha,
            key_fingerprint=manifest["site"]["key_fingerprint"],
            file_count=len(manifest["files"]) + 3,  # + manifest, signature, custody entry 1
            size_bytes=size,
            gap_count=len(manifest["gaps"]),
            masks_applied=manifest["privacy"]["masks_applied"],
        )
        tools.register.add(record)
        if redacted is not None:
            tools.register.add(redacted.record)
        for camera_id in req.camera_ids:
            tools.audit.append(
                tools.clock.now_us(),
                who,
                AuditAction.EXPORT,
                camera_id=camera_id,
                range_start_us=req.start_us,
                range_end_us=req.end_us,
                client=req.client,
                reason=req.reason,
                detail={
                    **extra,
                    "what": "evidence package",
                    "package": package_id,
                    "recipient": req.recipient,
                    "masked": record.masks_applied,
                    **({"redacted_package": redacted.record.id} if redacted is not None else {}),
                },
            )
        return ExportResult(record, manifest, holds, redacted)

    def treatments(self, req: EvidenceRequest) -> dict[str, PictureTreatment]:
        """What is done to each camera's pictures: its privacy masks burned in, unless the original is asked for."""
        config = self.tools.config
        out = {}
        for camera_id in req.camera_ids:
            cam = config.camera(camera_id)
            masks = cam.masks() if cam is not None and not req.unmasked else ()
            out[camera_id] = PictureTreatment(masks=masks)
        return out

    def _write(
        self, package: PackageBuilder, req: EvidenceRequest, package_id: str, now: int, holds: list[LegalHold]
    ) -> tuple[dict[str, Any], str]:
        """Everything but the publishing; the manifest and its SHA-256."""
        tools = self.tools
        how = self.treatments(req)
        footage = [
            export_camera(
                tools.catalog,
                tools.store,
                tools.write_clip,
                package,
                cam,
                req.stream,
                req.start_us,
                req.end_us,
                how[cam],
            )
            for cam in req.camera_ids
        ]
        problems: list[str] = []
        events = events_of(tools.catalog, req.camera_ids, req.start_us, req.end_us) if req.include_events else []
        shots = SnapshotTreatment(tools.treat_picture, how)
        event_docs = event_records(events, package, tools.snapshots, problems, shots)
        audit_docs = [
            {**e.as_dict(), **moment("at", e.at_us)}
            for e in tools.audit.touching(req.camera_ids, req.start_us, req.end_us)
        ]
        gap_docs = [gap.entry() for cam in footage for gap in cam.gaps]
        records: dict[str, Any] = {"events": event_docs, "audit": audit_docs, "gaps": gap_docs, **req.records}
        for name, doc in records.items():
            package.write(f"records/{name}.json", document_bytes(doc))
        problems += [
            f"{g['camera_id']}: {g['cause']} from {g['start']} to {g['end']}: {g['detail']}"
            for g in gap_docs
            if g["cause"] in ("altered", "missing_file", "unreadable")
        ]
        counts = {
            "events": len(event_docs),
            "snapshots": sum(1 for e in event_docs if e["snapshot"]),
            "audit_entries": len(audit_docs),
        }
        manifest = self._manifest(req, package_id, now, holds, footage, problems, counts)
        manifest["privacy"] = {
            "masks_applied": any(t.masks for t in how.values()),
            "original_pictures_asked": req.unmasked,
            "cameras": {camera_id: t.describe() for camera_id, t in how.items()},
        }
        export = Export(package_id, now, req.requested_by, req.recipient, f"exported for: {req.reason}")
        manifest_sha = seal(package, manifest, tools.signer, tools.verifier_source, export)
        return manifest, manifest_sha

    def _manifest(
        self,
        req: EvidenceRequest,
        package_id: str,
        now: int,
        holds: list[LegalHold],
        footage: list[CameraFootage],
        problems: list[str],
        counts: dict[str, int],
    ) -> dict[str, Any]:
        tools = self.tools
        public = tools.signer.public_key
        clips = []
        for cam in footage:
            ledgered = {d.sha256 for d in cam.deletions}
            for k, clip in enumerate(cam.clips):
                earlier = [s for c in cam.clips[:k] for s in c.sources]
                clips.append(clip_entry(clip, ledgered, earlier))
        return {
            "format": FORMAT,
            "package_id": package_id,
            **moment("created", now),
            "generator": f"vigil {__version__}",
            "site": {
                "name": tools.config.site.name,
                "public_key": public.hex(),
                "key_fingerprint": key_fingerprint(public),
            },
            "request": {
                "cameras": list(req.camera_ids),
                "stream": req.stream,
                **moment("start", req.start_us),
                **moment("end", req.end_us),
                "requested_by": req.requested_by,
                "client": req.client,
                "reason": req.reason,
                "recipient": req.recipient,
                "include_events": req.include_events,
                "unmasked": req.unmasked,
                "redact": sorted(req.redact),
                "redact_style": req.redact_style,
            },
            "clips": clips,
            "gaps": [gap.entry() for cam in footage for gap in cam.gaps],
            "legal_holds": [
                {
                    "id": h.id,
                    "camera_id": h.camera_id,
                    **moment("start", h.start_us),
                    **moment("end", h.end_us),
                    **moment("placed", h.placed_us),
                    "placed_by": h.placed_by,
                    "reason": h.reason,
                }
                for h in holds
            ],
            "records": {name: f"records/{name}.json" for name in ("events", "audit", "gaps", *req.records)},
            "counts": {"clips": len(clips), "gaps": sum(len(cam.gaps) for cam in footage), **counts},
            "problems": problems,
            "source_check": "every source segment's size and SHA-256 were checked against the catalog at export",
        }
