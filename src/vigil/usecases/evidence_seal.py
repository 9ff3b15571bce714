"""Sealing an evidence package (ADR 0008): the README and the verifier written, every file listed with its size and
SHA-256 in the manifest, the manifest signed with the site key, custody entry 1 (the export) signed and chained to
the manifest. Shared by the export and by redacted packages."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vigil.domain.evidence import (
    MANIFEST,
    README,
    SIGNATURE,
    VERIFIER,
    PackageFile,
    canonical_json,
    custody_document,
    custody_entry,
    custody_name,
    document_bytes,
    signature_document,
)
from vigil.domain.evidence_readme import recipient_readme
from vigil.ports import PackageBuilder, Signer

KINDS = {"clips/": "clip", "snapshots/": "snapshot", "records/": "record", README: "readme", VERIFIER: "verifier"}


@dataclass(frozen=True, slots=True)
class Export:
    """Custody entry 1: who exported the package, when, to whom, why."""

    package_id: str
    at_us: int
    by: str
    to: str
    note: str


def listed(package: PackageBuilder) -> list[PackageFile]:
    """Every file written so far, with its size, SHA-256 and kind."""
    files = []
    for path in package.names():
        size, digest = package.describe(path)
        kind = next((k for prefix, k in KINDS.items() if path.startswith(prefix) or path == prefix), "other")
        files.append(PackageFile(path, size, digest, kind))
    return files


def seal(
    package: PackageBuilder,
    manifest: dict[str, Any],
    signer: Signer,
    verifier_source: Callable[[], bytes],
    export: Export,
) -> str:
    """Write the README, the verifier, the manifest (``files`` filled in), its signature and custody entry 1; the
    manifest's SHA-256."""
    manifest["files"] = []  # the README is written from the rest, then every file is listed
    package.write(README, recipient_readme(manifest).encode())
    package.write(VERIFIER, verifier_source())
    manifest["files"] = [f.entry() for f in listed(package)]
    body = document_bytes(manifest)
    package.write(MANIFEST, body)
    public = signer.public_key
    package.write(SIGNATURE, signature_document(public, signer.sign(body)))
    manifest_sha = hashlib.sha256(body).hexdigest()
    entry = custody_entry(
        1, export.package_id, "exported", export.at_us, export.by, export.to, export.note, manifest_sha, public.hex()
    )
    package.write(custody_name(1), custody_document(entry, signer.sign(canonical_json(entry))))
    return manifest_sha
