"""The retention sweep: plan with :func:`vigil.domain.retention.plan_retention`, then delete (row marked,
file unlinked, ledger written and row removed), and raise a storage-capacity event when the legal minimum
cannot be held."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from vigil.config.models import Config
from vigil.domain.capacity import CapacityForecast, capacity_bytes, forecast_capacity
from vigil.domain.holds import mark_held
from vigil.domain.retention import DiskBudget, RetentionPolicy, plan_retention
from vigil.domain.tiers import Rule
from vigil.domain.timeutil import US_PER_DAY
from vigil.ports import Catalog, Clock, LegalHolds, SegmentCopyStore, SegmentStore

log = logging.getLogger(__name__)

CAPACITY_EVENT = "storage_capacity"
RATE_WINDOW_US = US_PER_DAY


@dataclass(frozen=True, slots=True)
class SweepResult:
    deleted: int
    bytes_freed: int
    shortfall_bytes: int
    forecast: CapacityForecast
    kept_by_hold: int = 0  # segments the rules would have deleted, kept by legal holds
    released: int = 0  # copied segments released from the hot disk to make room (kept on their tier)


REASONS = {
    "max_age": "older than the camera's maximum age",
    "lifecycle": "past its lifecycle rule (storage.lifecycle: hot_days + tier_days)",
    "max_bytes": "disk budget reached; oldest footage past its legal minimum goes first",
}


def rules_of(config: Config) -> tuple[list[Rule], list[Rule]]:
    """(lifecycle rules, copy rules) of ``storage``, in the order written."""
    s = config.storage
    life = [Rule(frozenset(r.cameras), r.footage, r.tier, r.hot_days, r.tier_days) for r in s.lifecycle]
    copies = [Rule(frozenset(r.cameras), r.footage, r.tier) for r in s.copies]
    return life, copies


def policies(config: Config) -> tuple[dict[str, RetentionPolicy], RetentionPolicy]:
    default = RetentionPolicy(min_days=config.storage.min_retention_days, max_age_days=None)
    per_camera = {
        cam.id: RetentionPolicy(min_days=config.min_days_for(cam), max_age_days=cam.retention.max_age_days)
        for cam in config.cameras
    }
    return per_camera, default


def measure_capacity(config: Config, catalog: Catalog, store: SegmentStore, now_us: int) -> CapacityForecast:
    usage = store.usage()
    vigil_bytes = catalog.total_bytes()
    cap = capacity_bytes(
        config.storage.max_bytes,
        config.storage.max_percent,
        usage.total_bytes,
        max(0, usage.used_bytes - vigil_bytes),
        config.storage.reserve_free,
    )
    rates = catalog.bytes_per_second(now_us - RATE_WINDOW_US)
    min_days = {cam.id: config.min_days_for(cam) for cam in config.cameras if cam.enabled and cam.record}
    return forecast_capacity(cap, {c: r for c, r in rates.items() if c in min_days}, min_days)


class RetentionSweeper:
    """Applies the retention rules. Segments under an active legal hold are marked held before planning (so the
    plan skips them) and the catalog refuses to mark a held segment for deletion (so a hold placed meanwhile, by
    another process, wins too)."""

    def __init__(
        self,
        config: Config,
        catalog: Catalog,
        store: SegmentStore,
        clock: Clock,
        holds: LegalHolds | None = None,
        copies: SegmentCopyStore | None = None,
    ) -> None:
        self._config, self._catalog, self._store, self._clock = config, catalog, store, clock
        self._holds, self._copies = holds, copies

    def _budget(self, now_us: int) -> DiskBudget:
        storage = self._config.storage
        usage = self._store.usage()
        rates = self._catalog.bytes_per_second(now_us - 600_000_000)
        horizon_s = 2 * storage.sweep_interval_s + self._config.recording.segment_duration_s
        return DiskBudget(
            vigil_bytes=self._catalog.total_bytes(),
            max_bytes=storage.max_bytes,
            volume_total_bytes=usage.total_bytes,
            volume_used_bytes=usage.used_bytes,
            max_percent=storage.max_percent,
            reserve_free_bytes=storage.reserve_free,
            headroom_bytes=int(sum(rates.values()) * horizon_s),
        )

    def sweep(self) -> SweepResult:
        now = self._clock.now_us()
        per_camera, default = policies(self._config)
        view = self._catalog.retention_view()
        if self._holds is not None:
            view = mark_held(view, self._holds.active())
        life, _ = rules_of(self._config)
        plan = plan_retention(view, per_camera, default, self._budget(now), now, life)
        deleted = freed = 0
        kept = plan.kept_by_hold
        for deletion in plan.deletions:
            seg = self._catalog.segment(deletion.segment_id)
            if seg is None:
                continue
            if not self._catalog.mark_deleting(seg.id):
                kept += 1  # a hold placed since the plan was made
                continue
            tiers = self._store.erase(seg)
            self._catalog.remove_segment(seg, now, deletion.rule, "retention", REASONS[deletion.rule], tiers)
            deleted += 1
            freed += seg.size_bytes if seg.hot else 0
        released = self._release(plan.releases)
        if deleted:
            log.info("retention deleted %d segment(s), %d bytes", deleted, freed)
        if released:
            log.info("retention released %d copied segment(s) from the hot disk to make room", released)
        if kept:
            log.info("retention kept %d segment(s) the rules would have deleted: under legal hold", kept)
        forecast = measure_capacity(self._config, self._catalog, self._store, now)
        self._capacity_event(plan.shortfall_bytes, forecast, now)
        return SweepResult(deleted, freed, plan.shortfall_bytes, forecast, kept, released)

    def _release(self, segment_ids: list[int]) -> int:
        """Hot segments with a verified copy leave the hot disk (the catalog first, then the file)."""
        if self._copies is None:
            return 0
        done = 0
        for segment_id in segment_ids:
            seg = self._catalog.segment(segment_id)
            if seg is not None and self._copies.release(segment_id):
                self._store.delete(seg.path)
                done += 1
        return done

    def _capacity_event(self, shortfall: int, forecast: CapacityForecast, now: int) -> None:
        open_event = self._catalog.open_event(CAPACITY_EVENT)
        problem = shortfall > 0 or not forecast.ok
        if problem and open_event is None:
            if shortfall > 0:
                text = (
                    f"Storage full: {shortfall / 1e6:.1f} MB more are needed but all remaining footage is "
                    f"within its legal minimum retention; {forecast.describe()}."
                )
            else:
                text = f"Storage will not hold the legal minimum retention: {forecast.describe()}."
            log.warning("%s", text)
            self._catalog.add_event(
                CAPACITY_EVENT,
                now,
                text,
                data={
                    "shortfall_bytes": shortfall,
                    "days_of_capacity": forecast.days_of_capacity,
                    "days_required": forecast.days_required,
                    "capacity_bytes": forecast.capacity_bytes,
                    "bytes_per_day": forecast.bytes_per_day,
                },
            )
        elif not problem and open_event is not None:
            self._catalog.end_event(open_event.id, now)
