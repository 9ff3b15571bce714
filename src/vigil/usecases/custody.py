"""Handing an evidence package over: a signed custody entry appended to it, chained to the one before, and the
act written to the audit log.

The package is checked first by the caller (``vigil verify`` with the site's own fingerprint): custody is never
added to a package that was altered or signed by another key. Each entry is signed on its own and carries the
SHA-256 of the custody file before it (entry 1: of manifest.json), so entries changed, reordered or removed from
the middle show; the newest entries removed do not show in the package alone, which is why every hand-over is
also in the site's audit log (ADR 0008).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from vigil.domain.audit import AuditAction
from vigil.domain.errors import InvalidRequest
from vigil.domain.evidence import (
    CUSTODY_DIR,
    MANIFEST,
    canonical_json,
    custody_document,
    custody_entry,
    custody_name,
)
from vigil.ports import AuditLog, Clock, SealedPackage, Signer


def last_custody(package: SealedPackage) -> tuple[str, bytes]:
    """The name and bytes of the newest custody entry; InvalidRequest when there is none."""
    names = sorted(n for n in package.names() if n.startswith(CUSTODY_DIR + "/") and n.endswith(".json"))
    if not names:
        raise InvalidRequest("the package has no chain of custody (custody/0001.json)")
    return names[-1], package.read(names[-1])


def hand_over(
    package: SealedPackage,
    signer: Signer,
    audit: AuditLog,
    clock: Clock,
    *,
    by: str,
    to: str,
    note: str,
    client: str,
    actor: str,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Append the next custody entry (``handed_over`` from ``by`` to ``to``) and audit it; the entry."""
    manifest = json.loads(package.read(MANIFEST))
    _, last_bytes = last_custody(package)
    last = json.loads(last_bytes)["entry"]
    now = clock.now_us()
    entry = custody_entry(
        int(last["seq"]) + 1,
        str(manifest["package_id"]),
        "handed_over",
        now,
        by,
        to,
        note,
        hashlib.sha256(last_bytes).hexdigest(),
        signer.public_key.hex(),
    )
    package.append(custody_name(entry["seq"]), custody_document(entry, signer.sign(canonical_json(entry))))
    request = manifest["request"]
    audit.append(
        now,
        actor,
        AuditAction.CUSTODY,
        range_start_us=request["start_us"],
        range_end_us=request["end_us"],
        client=client,
        reason=entry["note"],
        detail={
            **(detail or {}),
            "package": manifest["package_id"],
            "seq": entry["seq"],
            "by": entry["by"],
            "to": entry["to"],
            "cameras": request["cameras"],
        },
    )
    return entry
