"""Storage tiers (ADR 0016): the copies of a segment on tiers other than the hot disk, the lifecycle rules that move
footage off the hot disk, the copy rules that copy it as it is written, and the checks on them. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from vigil.domain.rules import RuleKind
from vigil.domain.timeutil import US_PER_DAY

HOT = "hot"
SCENE_EVENT_TYPES = ("motion", "object", *(k.value for k in RuleKind))  # what makes a segment "event footage"


class CopyState(StrEnum):
    COPYING = "copying"  # being uploaded, or left so by a node that stopped: done again
    VERIFIED = "verified"  # read back from the tier, its SHA-256 the segment's
    DAMAGED = "damaged"  # read back (by a reader or the scrub) with another hash, or missing


@dataclass(frozen=True, slots=True)
class SegmentCopy:
    id: int
    segment_id: int
    tier: str
    key: str
    state: CopyState
    size_bytes: int
    started_us: int
    verified_us: int | None = None
    checked_us: int | None = None  # the last time it was read back whole (the mover, the scrub, a reader)
    note: str = ""  # what was wrong (damaged)


@dataclass(frozen=True, slots=True)
class Rule:
    """Footage of ``cameras`` (empty: every camera) of a kind that leaves the hot disk after ``hot_days`` for
    ``tier`` (a lifecycle rule), or is copied to ``tier`` at once (a copy rule: ``hot_days`` None)."""

    cameras: frozenset[str]
    footage: str  # all | continuous | events
    tier: str
    hot_days: float | None = None
    tier_days: float | None = None

    def covers(self, camera_id: str, has_event: bool) -> bool:
        if self.cameras and camera_id not in self.cameras:
            return False
        return self.footage == "all" or (self.footage == "events") == has_event

    def leaves_hot_us(self, segment_end_us: int) -> int | None:
        return None if self.hot_days is None else segment_end_us + int(self.hot_days * US_PER_DAY)

    def expires_us(self, segment_end_us: int) -> int | None:
        """When the footage is past this rule (None: kept until space is needed)."""
        if self.hot_days is None or self.tier_days is None:
            return None
        return segment_end_us + int((self.hot_days + self.tier_days) * US_PER_DAY)


def lifecycle_rule(rules: Sequence[Rule], camera_id: str, has_event: bool) -> Rule | None:
    """The first lifecycle rule covering the segment (rules are read in order, as in vigil.yaml)."""
    return next((r for r in rules if r.hot_days is not None and r.covers(camera_id, has_event)), None)


def copy_tiers(rules: Sequence[Rule], camera_id: str, has_event: bool) -> list[str]:
    """The tiers a segment is copied to as soon as it is written."""
    out: list[str] = []
    for r in rules:
        if r.hot_days is None and r.covers(camera_id, has_event) and r.tier not in out:
            out.append(r.tier)
    return out


def short_of_minimum(rules: Sequence[Rule], min_days: Mapping[str, float], default_min: float) -> list[str]:
    """Lifecycle rules that would destroy footage before the legal minimum of a camera they cover: one message each,
    naming the rule's index, the camera and the days."""
    out: list[str] = []
    for index, r in enumerate(rules):
        if r.hot_days is None or r.tier_days is None:
            continue
        kept = r.hot_days + r.tier_days
        cameras: Iterable[str] = sorted(r.cameras) if r.cameras else sorted(min_days) or ["every camera"]
        for cam in cameras:
            need = min_days.get(cam, default_min)
            if kept < need:
                out.append(
                    f"[{index}]: keeps {cam}'s footage {kept:g} days (hot_days + tier_days), "
                    f"less than its legal minimum of {need:g} days"
                )
                break
    return out


def near_event(start_us: int, end_us: int, events: Sequence[tuple[int, int]], margin_us: int) -> bool:
    """Does a segment [start, end) hold event footage (an event within ``margin_us`` of it)? ``events`` sorted."""
    return any(a - margin_us < end_us and b + margin_us > start_us for a, b in events)


def storage_equipment(node_id: str, tier: str) -> str:
    """The register's id of where a tier's footage lives: ``<node>:disk`` for the hot disk, else
    ``<node>:tier:<name>`` (what a storage ticket is opened on)."""
    return f"{node_id}:disk" if tier == HOT else f"{node_id}:tier:{tier}"


def tier_of_equipment(node_id: str, equipment_id: str) -> str | None:
    """The tier a storage ticket's equipment stands for (the inverse of :func:`storage_equipment`)."""
    if equipment_id == f"{node_id}:disk":
        return HOT
    prefix = f"{node_id}:tier:"
    return equipment_id[len(prefix) :] if equipment_id.startswith(prefix) else None
