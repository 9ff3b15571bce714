"""What ``vigil status`` and ``GET /api/v1/storage/tiers`` say of each storage tier (ADR 0016): where it is,
whether it answers, what it holds, how many days of footage it keeps against the days the rules require of it,
how far behind the copies to it run, and what the scrub found (damaged copies, days since the oldest read-back)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from vigil.config.models import Config
from vigil.domain.errors import StorageError
from vigil.domain.tiers import HOT
from vigil.domain.timeutil import US_PER_DAY
from vigil.ports import SegmentCopyStore, Tier


@dataclass(frozen=True, slots=True)
class CopyLag:
    """A copy rule's cameras and how far behind their copies run (now minus the oldest uncopied footage's end)."""

    cameras: tuple[str, ...]
    lag_s: float


@dataclass(frozen=True, slots=True)
class TierState:
    name: str
    kind: str  # hot | s3 | local
    where: str
    segments: int
    size_bytes: int
    days_kept: float  # from the oldest footage it holds to now
    days_required: float | None  # what the rules ask it to keep (None: nothing asked)
    problem: str = ""  # it did not answer, or why
    copy_lags: list[CopyLag] = field(default_factory=list)
    damaged: int = 0  # copies the scrub or a reader found damaged and not yet healed
    unchecked_days: float = 0.0  # since the object read back longest ago was last read back whole (the scrub)

    @property
    def short(self) -> bool:
        """Keeps fewer days than required (a young node is short too, until it has recorded that long)."""
        return self.days_required is not None and self.days_kept + 1e-9 < self.days_required


def days_required(config: Config) -> dict[str, float]:
    """Per tier: the days of footage the rules ask it to hold. The hot disk: the longest ``hot_days`` (the legal
    minimum when no footage leaves it); a tier: the longest ``hot_days + tier_days`` of rules moving to it (a rule
    without ``tier_days`` asks for the legal minimum)."""
    s = config.storage
    legal = max([s.min_retention_days, *(config.min_days_for(c) for c in config.cameras)])
    out: dict[str, float] = {HOT: max((r.hot_days for r in s.lifecycle), default=legal)}
    for r in s.lifecycle:
        want = r.hot_days + r.tier_days if r.tier_days is not None else legal
        out[r.tier] = max(out.get(r.tier, 0.0), want)
    return out


def tier_states(
    config: Config,
    copies: SegmentCopyStore,
    tiers: Mapping[str, Tier],
    now_us: int,
    hot_where: str,
    problems: Mapping[str, str] | None = None,
) -> list[TierState]:
    """Every tier, the hot disk first. ``problems``: the tiers' last errors as the mover saw them; None: each tier
    is checked now (a request to each store)."""
    usage = copies.usage()
    scrub = copies.scrub_view()
    required = days_required(config)
    out: list[TierState] = []
    for name in [HOT, *tiers]:
        count, size, oldest = usage.get(name, (0, 0, None))
        days = (now_us - oldest) / US_PER_DAY if oldest is not None else 0.0
        problem = ""
        tier = tiers.get(name)
        if tier is not None:
            if problems is None:
                try:
                    tier.check()
                except StorageError as exc:
                    problem = exc.message
            else:
                problem = problems.get(name, "")
        lags = [
            CopyLag(tuple(r.cameras), copies.lag_us(name, r.cameras, now_us, r.footage) / 1e6)
            for r in config.storage.copies
            if r.tier == name
        ]
        if tier is not None:  # the message names the tier, which its row already does
            problem = problem.removeprefix(f"tier {name!r} ({tier.where()}): ").removeprefix(f"tier {name!r}: ")
        damaged, oldest_check = scrub.get(name, (0, None))
        out.append(
            TierState(
                name=name,
                kind=HOT if tier is None else tier.kind,
                where=hot_where if tier is None else tier.where(),
                segments=count,
                size_bytes=size,
                days_kept=max(0.0, days),
                days_required=required.get(name),
                problem=problem,
                copy_lags=lags,
                damaged=damaged,
                unchecked_days=max(0.0, (now_us - oldest_check) / US_PER_DAY) if oldest_check is not None else 0.0,
            )
        )
    return out
