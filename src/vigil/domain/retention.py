"""Retention planning: which segments go, and why. Pure functions; the sweeper applies the plan.

Rules, in order:
1. ``max_age``: a segment whose end is older than its camera's maximum age goes (from every tier).
2. ``lifecycle``: a segment past its lifecycle rule (``hot_days + tier_days``, ADR 0016) goes from every tier.
3. ``max_bytes``: while Vigil would be over its hot disk's budget (bytes, percent of the volume, or the free-space
   reserve), the oldest hot segments leave it first, across all cameras, with room kept for the writes expected
   before the next sweep, so cleanup runs ahead of the recorder. A segment with a verified copy on a tier is
   *released* (the copy is kept, nothing is lost) before any footage is deleted; only then do the oldest uncopied
   ones go.
A segment under legal hold is never deleted, by either rule (``kept_by_hold`` counts those a rule would have
taken; the size rule goes on to the next oldest). A segment younger than its camera's legal minimum retention is
never deleted by the size rule; when that leaves the budget exceeded, the plan reports a shortfall.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from vigil.domain.tiers import Rule, lifecycle_rule
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
    hot: bool = True  # on the hot disk (False: only on tiers; costs the hot budget nothing)
    copied: bool = False  # a verified copy exists on a tier
    event_footage: bool | None = None  # None: not yet looked at (a lifecycle rule by kind does not expire it)


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
    rule: str  # "max_age", "lifecycle" or "max_bytes"


@dataclass(frozen=True, slots=True)
class RetentionPlan:
    deletions: list[Deletion]
    bytes_to_free: int
    bytes_freed: int
    shortfall_bytes: int  # > 0: the size rule could not free enough without breaking the legal minimum
    kept_by_hold: int = 0  # segments a rule would have deleted but a legal hold keeps
    releases: list[int] = field(default_factory=list)  # hot segments with a verified copy: off the hot disk


def expired_by_lifecycle(seg: StoredSegment, lifecycle: Sequence[Rule], now_us: int) -> bool:
    """Is the segment past its lifecycle rule? A rule by kind waits until the segment's kind is known."""
    mine = [r for r in lifecycle if r.hot_days is not None and (not r.cameras or seg.camera_id in r.cameras)]
    if not mine or (seg.event_footage is None and any(r.footage != "all" for r in mine)):
        return False
    rule = lifecycle_rule(lifecycle, seg.camera_id, bool(seg.event_footage))
    expires = rule.expires_us(seg.end_us) if rule is not None else None
    return expires is not None and expires <= now_us


def plan_retention(
    segments: Sequence[StoredSegment],
    policies: Mapping[str, RetentionPolicy],
    default_policy: RetentionPolicy,
    budget: DiskBudget,
    now_us: int,
    lifecycle: Sequence[Rule] = (),
) -> RetentionPlan:
    deletions: list[Deletion] = []
    chosen: set[int] = set()
    freed_by_age = 0
    kept: set[int] = set()  # held segments a rule would have taken
    for seg in segments:
        policy = policies.get(seg.camera_id, default_policy)
        too_old = policy.max_age_days is not None and seg.end_us <= now_us - int(policy.max_age_days * US_PER_DAY)
        rule = "max_age" if too_old else "lifecycle" if expired_by_lifecycle(seg, lifecycle, now_us) else None
        if rule is None:
            continue
        if seg.held:
            kept.add(seg.id)
            continue
        deletions.append(Deletion(seg.id, rule))
        chosen.add(seg.id)
        freed_by_age += seg.size_bytes if seg.hot else 0

    to_free = max(0, budget.excess_bytes() - freed_by_age)
    freed = 0
    releases: list[int] = []
    if to_free > 0:
        hot = sorted((s for s in segments if s.hot and s.id not in chosen), key=lambda s: (s.start_us, s.id))
        for seg in hot:  # copied footage first: releasing it loses nothing
            if freed >= to_free:
                break
            if seg.copied:
                releases.append(seg.id)
                freed += seg.size_bytes
        for seg in hot:
            if freed >= to_free:
                break
            if seg.copied:
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
        releases=releases,
    )
