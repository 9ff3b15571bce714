"""Retention planning: which segments go, and why. Pure functions; the sweeper applies the plan.

Rules, in order:
1. ``max_age``: a segment whose end is older than its camera's maximum age goes.
2. ``max_bytes``: while Vigil would be over its disk budget (bytes, percent of the volume, or the free-space
   reserve), the oldest segments go first, across all cameras, with room kept for the writes expected before
   the next sweep, so cleanup runs ahead of the recorder.
A segment under legal hold is never deleted, by either rule (``kept_by_hold`` counts those a rule would have
taken; the size rule goes on to the next oldest). A segment younger than its camera's legal minimum retention is
never deleted by the size rule; when that leaves the budget exceeded, the plan reports a shortfall.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vigil.domain.timeutil import US_PER_DAY


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    min_days: float  # legal minimum: the size rule never deletes younger footage
    max_age_days: float | None  # None: kept until the size rule needs the room


@dataclass(frozen=True, slots=True)
class StoredSegment:
    id: int
    camera_id: str
    start_us: int
    end_us: int
    size_bytes: int
    held: bool = False


@dataclass(frozen=True, slots=True)
class DiskBudget:
    """What the size rule must keep true, measured just before planning."""

    vigil_bytes: int  # bytes of catalogued footage
    max_bytes: int | None  # Vigil's own limit
    volume_total_bytes: int
    volume_used_bytes: int
    max_percent: float | None  # the volume's used share must stay at or below this
    reserve_free_bytes: int  # keep at least this much free on the volume
    headroom_bytes: int  # expected writes before the next sweep

    def excess_bytes(self) -> int:
        """How many bytes must go now so the next sweep interval's writes still fit."""
        needs = [0]
        if self.max_bytes is not None:
            needs.append(self.vigil_bytes + self.headroom_bytes - self.max_bytes)
        if self.max_percent is not None:
            allowed_used = int(self.volume_total_bytes * self.max_percent / 100.0)
            needs.append(self.volume_used_bytes + self.headroom_bytes - allowed_used)
        free = self.volume_total_bytes - self.volume_used_bytes
        needs.append(self.reserve_free_bytes + self.headroom_bytes - free)
        return max(needs)


@dataclass(frozen=True, slots=True)
class Deletion:
    segment_id: int
    rule: str  # "max_age" or "max_bytes"


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    deletions: list[Deletion]
    bytes_to_free: int
    bytes_freed: int
    shortfall_bytes: int  # > 0: the size rule could not free enough without breaking the legal minimum
    kept_by_hold: int = 0  # segments a rule would have deleted but a legal hold keeps


def plan_retention(
    segments: Sequence[StoredSegment],
    policies: Mapping[str, RetentionPolicy],
    default_policy: RetentionPolicy,
    budget: DiskBudget,
    now_us: int,
) -> RetentionPlan:
    deletions: list[Deletion] = []
    chosen: set[int] = set()
    freed_by_age = 0
    kept: set[int] = set()  # held segments a rule would have taken
    for seg in segments:
        policy = policies.get(seg.camera_id, default_policy)
        if policy.max_age_days is None:
            continue
        if seg.end_us <= now_us - int(policy.max_age_days * US_PER_DAY):
            if seg.held:
                kept.add(seg.id)
                continue
            deletions.append(Deletion(seg.id, "max_age"))
            chosen.add(seg.id)
            freed_by_age += seg.size_bytes

    to_free = max(0, budget.excess_bytes() - freed_by_age)
    freed = 0
    if to_free > 0:
        for seg in sorted(segments, key=lambda s: (s.start_us, s.id)):
            if freed >= to_free:
                break
            if seg.id in chosen:
                continue
            policy = policies.get(seg.camera_id, default_policy)
            if seg.end_us > now_us - int(policy.min_days * US_PER_DAY):
                continue  # younger than the legal minimum: the size rule may not touch it
            if seg.held:
                kept.add(seg.id)
                continue
            deletions.append(Deletion(seg.id, "max_bytes"))
            chosen.add(seg.id)
            freed += seg.size_bytes
    return RetentionPlan(
        deletions=deletions,
        bytes_to_free=to_free,
        bytes_freed=freed + freed_by_age,
        shortfall_bytes=max(0, to_free - freed),
        kept_by_hold=len(kept),
    )
