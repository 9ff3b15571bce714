"""Rows the catalog hands back that are not segments: events, ledger entries, stream health."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    type: str
    camera_id: str | None
    stream: str | None
    start_us: int
    end_us: int | None
    description: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One destruction of footage. ``entry_sha256`` chains each entry to the one before it."""

    id: int
    deleted_us: int
    segment_id: int
    camera_id: str
    stream: str
    path: str
    start_us: int
    end_us: int
    size_bytes: int
    sha256: str
    rule: str
    actor: str
    reason: str
    prev_entry_sha256: str | None
    entry_sha256: str

    def fields(self) -> dict[str, Any]:
        return {
            "deleted_us": self.deleted_us,
            "segment_id": self.segment_id,
            "camera_id": self.camera_id,
            "stream": self.stream,
            "path": self.path,
            "start_us": self.start_us,
            "end_us": self.end_us,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "rule": self.rule,
            "actor": self.actor,
            "reason": self.reason,
        }


def ledger_entry_hash(prev: str | None, fields: dict[str, Any]) -> str:
    """Hash of one ledger entry, chained to the previous entry's hash."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(((prev or "") + "|" + body).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class HealthRow:
    camera_id: str
    stream: str
    connected: bool
    since_us: int
    updated_us: int
    last_packet_us: int | None
    fps: float
    bitrate_kbps: float
    keyframe_interval_s: float
    repaired_packets: int
    error: str
