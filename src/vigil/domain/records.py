"""Rows the catalog hands back that are not segments: events, ledger entries, stream health."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from vigil.domain.errors import InvalidRequest


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
    zone: str | None = None  # the zone or line it happened in
    labels: tuple[str, ...] = ()  # the object labels involved, lower-case and sorted
    score: float | None = None  # the best detection score seen during the event


def event_label(text: str) -> str:
    """One object label as events keep it: trimmed and lower-case, so ``Car`` and ``car`` are one label.
    Raises :class:`InvalidRequest` for an empty label or one holding a comma (commas separate labels)."""
    label = text.strip().lower()
    if not label:
        raise InvalidRequest("label: must not be empty")
    if "," in label:
        raise InvalidRequest(f"label: {text!r} holds a comma (one label at a time)")
    return label


def event_labels(texts: Iterable[str]) -> tuple[str, ...]:
    """A set of labels as events keep it: each as :func:`event_label`, without repeats, sorted."""
    return tuple(sorted({event_label(t) for t in texts}))


def event_score(value: float | None) -> float | None:
    """A best score as events keep it; raises :class:`InvalidRequest` when it is not a finite number."""
    if value is not None and not math.isfinite(value):
        raise InvalidRequest(f"score: {value!r} is not a finite number")
    return value


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
    tiers: str = "hot"  # the tiers it was deleted from, comma-separated (ADR 0016)

    def fields(self) -> dict[str, Any]:
        """What the entry's hash covers (``tiers`` only when not just the hot disk: older entries stay valid)."""
        extra: dict[str, Any] = {} if self.tiers == "hot" else {"tiers": self.tiers}
        return extra | {
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


@dataclass(frozen=True, slots=True)
class UserRecord:
    username: str
    role: str  # vigil.domain.access.Role value
    password_hash: str
    created_us: int
    must_change_password: bool = False
    disabled: bool = False
    display_name: str = ""
    language: str = "en"  # the console's language: en or zh
    vendor: str = ""  # a vendor's account: sees that vendor's equipment and tickets only
    access_from_us: int | None = None  # the account may be used from ...
    access_until_us: int | None = None  # ... until (a vendor's visit)


@dataclass(frozen=True, slots=True)
class WallGroup:
    """A named, ordered set of cameras for the live wall, with its layout (tiles: 1, 4, 9 or 16)."""

    owner: str
    name: str
    cameras: tuple[str, ...]
    layout: int
    shared: bool  # offered to every user (each sees only the cameras they may watch)
    updated_us: int


@dataclass(frozen=True, slots=True)
class GrantRecord:
    username: str
    camera_id: str | None
    site: str | None
    actions: tuple[str, ...]
    history_from_us: int | None
    history_until_us: int | None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    token_hash: str  # SHA-256 of the cookie's token (the token itself is never stored)
    username: str
    csrf: str
    created_us: int
    expires_us: int
    client: str


@dataclass(frozen=True, slots=True)
class TokenRecord:
    token_hash: str
    username: str
    name: str
    created_us: int
