"""System backups (ADR 0018): what a backup of a node holds, by logical name, and the checks a restore makes before
anything is put in place. The footage is not in it: it is on the tiers, and the restored catalog finds it there.
Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FORMAT = "vigil-backup/1"
PREFIX = "backups/"  # on the tier: backups/<name>/<file>
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
CATALOG = "catalog/vigil.db"  # an online, consistent copy (SQLite's backup API)
ANCHOR = "catalog/audit.head"
SEALED_KEY = "catalog/site.key.sealed"  # the site key, encrypted with a passphrase not stored with it
CONFIG = "config/vigil.yaml"
REQUIRED = (CATALOG, CONFIG)
NAME = re.compile(r"^\d{8}T\d{6}Z$")


@dataclass(frozen=True, slots=True)
class BackupFile:
    path: str  # a logical name: catalog/vigil.db, config/vigil.yaml, evidence/<package>.zip, ...
    size_bytes: int
    sha256: str

    def entry(self) -> dict[str, Any]:
        return {"path": self.path, "size_bytes": self.size_bytes, "sha256": self.sha256}


def backup_name(now_us: int) -> str:
    return datetime.fromtimestamp(now_us / 1e6, UTC).strftime("%Y%m%dT%H%M%SZ")


def backup_sets(keys: Iterable[str]) -> tuple[list[str], list[str]]:
    """(whole backups, incomplete ones: no manifest) among a tier's keys under ``backups/``, oldest first."""
    whole: set[str] = set()
    seen: set[str] = set()
    for key in keys:
        parts = key.removeprefix(PREFIX).split("/", 1)
        if len(parts) == 2 and NAME.match(parts[0]):
            seen.add(parts[0])
            if parts[1] == MANIFEST:
                whole.add(parts[0])
    return sorted(whole), sorted(seen - whole)


def name_time_us(name: str) -> int:
    """When a backup named ``20261208T000848Z`` was made."""
    return int(datetime.strptime(name, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()) * 1_000_000


def manifest(
    name: str, made_us: int, node: str, site: Mapping[str, Any], files: Sequence[BackupFile]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "name": name,
        "created_us": made_us,
        "node": node,
        "site": dict(site),
        "files": [f.entry() for f in sorted(files, key=lambda f: f.path)],
    }


def manifest_problems(doc: Any) -> list[str]:
    """What makes a manifest unusable (before any file is looked at)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return [f"{MANIFEST} is not a {FORMAT} manifest"]
    files = doc.get("files")
    if not isinstance(files, list):
        return [f"{MANIFEST} lists no files"]
    out: list[str] = []
    names = [f.get("path") for f in files if isinstance(f, dict)]
    for required in REQUIRED:
        if required not in names:
            out.append(f"{MANIFEST} does not list {required}: not a whole backup")
    for name in names:
        if not isinstance(name, str) or not safe(name):
            out.append(f"{MANIFEST} lists a file outside the backup: {name!r}")
    return out


def safe(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and "\\" not in path and ".." not in parts and "" not in parts


def file_problems(listed: Sequence[Mapping[str, Any]], found: Mapping[str, tuple[int, str] | None]) -> list[str]:
    """Each listed file against what was fetched (``None``: it is not in the backup)."""
    out: list[str] = []
    for entry in listed:
        name = str(entry.get("path"))
        got = found.get(name)
        if got is None:
            out.append(f"{name} is missing from the backup (an incomplete backup)")
        elif got != (entry.get("size_bytes"), entry.get("sha256")):
            out.append(
                f"{name} was altered: {got[0]} bytes with SHA-256 {got[1][:16]}..., the manifest says "
                f"{entry.get('size_bytes')} bytes with SHA-256 {str(entry.get('sha256'))[:16]}..."
            )
    return out
