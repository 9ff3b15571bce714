"""The README.txt of an evidence package: for the person who receives it, in plain words. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vigil.domain.evidence import spaced


def recipient_readme(manifest: Mapping[str, Any]) -> str:
    request = manifest["request"]
    site = manifest["site"]
    clips = manifest["clips"]
    gaps = manifest["gaps"]
    lines = [
        "VIGIL EVIDENCE PACKAGE",
        "",
        f"Package:     {manifest['package_id']}",
        f"Made:        {manifest['created']} (UTC) at {site['name']}",
        f"Cameras:     {', '.join(request['cameras'])}",
        f"Footage:     {request['start']} to {request['end']} (UTC)",
        f"Asked by:    {request['requested_by']}",
        f"For:         {request['recipient']}",
        f"Reason:      {request['reason']}",
        "",
        f"It holds {len(clips)} video clip(s), {_how(manifest)}, "
        f"{manifest['counts']['snapshots']} snapshot(s), the records of {manifest['counts']['events']} event(s) and "
        f"{manifest['counts']['audit_entries']} audit log entries about this footage (folder records/).",
    ]
    if gaps:
        lines += ["", "Footage is missing for these stretches (no clip covers them), and this is why:"]
        lines += [f"  - {g['camera_id']}: {g['start']} to {g['end']}: {g['cause']} ({g['detail']})" for g in gaps]
    else:
        lines += ["", "No footage is missing in the range asked for."]
    for problem in manifest["problems"]:
        lines.append(f"  ! {problem}")
    lines += [
        "",
        "HOW TO CHECK THAT NOTHING WAS CHANGED",
        "",
        "manifest.json lists every file with its size and SHA-256 fingerprint, the recorded segments each clip",
        "was made from, and the gaps. manifest.sig is the site's digital signature (Ed25519) of manifest.json.",
        "custody/ holds the chain of custody: one signed entry per hand-over, each linked to the one before.",
        "",
        "1. Install Python 3 (3.8 or later) and PyNaCl:  pip install pynacl",
        "   (Debian or Ubuntu: apt install python3-nacl). Nothing else is needed, and no network.",
        "2. In this folder run:  python3 verify_package.py",
        "   (for the .zip as received: python3 verify_package.py PACKAGE.zip)",
        "3. It re-checks every file, the signature and the custody entries, and ends with",
        "   RESULT: INTACT, or names each file that was changed, removed or added.",
        "",
        "The signature proves the package was made with the key whose fingerprint is:",
        "",
        f"    {spaced(site['key_fingerprint'])}",
        "",
        "Compare that with the fingerprint the site gives you another way (letter, phone, its own records;",
        "on the site: vigil evidence key), or let the check compare it:",
        "    python3 verify_package.py --expect-fingerprint <fingerprint>",
        "A copy of verify_package.py from another source checks the package just as well: a package changed by",
        "someone could carry a changed checker, so for court use an independent copy.",
        "",
        "Times are UTC, as microseconds since 1970 (_us) and as ISO 8601. The clips play in any MP4 player.",
    ]
    return "\n".join(lines) + "\n"


def _how(manifest: Mapping[str, Any]) -> str:
    """How the clips were made: copied, or re-encoded with privacy masks or a redaction (ADR 0012)."""
    redaction = manifest.get("redaction")
    if redaction:
        return (
            f"re-encoded from package {redaction['of_package']} with {', '.join(redaction['hidden'])} hidden "
            f"for dissemination (that package's manifest has SHA-256 {redaction['original_manifest_sha256']})"
        )
    if manifest.get("privacy", {}).get("masks_applied"):
        return "re-encoded from the recordings with the cameras' privacy masks filled in (see manifest.json: privacy)"
    return "copied from the recordings without re-encoding"
