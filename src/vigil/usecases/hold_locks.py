"""Held footage under object lock (ADR 0016): on a tier whose bucket has object lock on (``object_lock: true``), a
segment under an active legal hold is written locked (COMPLIANCE: nobody can delete it, not even with the store's
keys, until the date) and kept locked while the hold stands: the lock is pushed ``lock_days`` ahead whenever less
than half of that is left. A hold placed on footage already archived locks its copies at the next look. When the
hold is lifted the lock simply runs out. Tiers without object lock (folders, buckets without it) keep held footage
by Vigil's own rule: a held segment is never deleted."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping

from vigil.config.models import Config
from vigil.config.tiers import S3TierConfig
from vigil.domain.errors import StorageError
from vigil.domain.segment import STREAMS, Segment
from vigil.domain.tiers import CopyState
from vigil.domain.timeutil import US_PER_DAY
from vigil.ports import Catalog, Clock, LegalHolds, SegmentCopyStore, Tier

log = logging.getLogger(__name__)


class HoldLocks:
    def __init__(
        self,
        holds: LegalHolds,
        catalog: Catalog,
        copies: SegmentCopyStore,
        tiers: Mapping[str, Tier],
        clock: Clock,
        config: Callable[[], Config],
    ) -> None:
        self.holds, self.catalog, self.copies, self.tiers, self.clock = holds, catalog, copies, tiers, clock
        self.config = config
        self._until: dict[tuple[str, str], int] = {}  # (tier, key) -> locked until (as set or read)
        self._stop = threading.Event()
        self.problems: dict[str, str] = {}

    def lock_days(self, tier: str) -> float | None:
        """The tier's lock length when it has object lock on, else None."""
        for t in self.config().storage.tiers:
            if t.name == tier and isinstance(t, S3TierConfig) and t.object_lock:
                return t.lock_days
        return None

    def until_for(self, seg: Segment, tier: str) -> int | None:
        """For an upload: the lock a copy of ``seg`` on ``tier`` is written with (None: not held, or no lock)."""
        days = self.lock_days(tier)
        if days is None or not self.holds.covering(seg.camera_id, seg.start_us, seg.end_us):
            return None
        until = self.clock.now_us() + int(days * US_PER_DAY)
        self._until[(tier, seg.path)] = until
        return until

    def tick(self) -> int:
        """Lock (or lock longer) the copies of held footage on tiers with object lock; how many were locked."""
        locking = {name: days for name in self.tiers if (days := self.lock_days(name)) is not None}
        if not locking:
            return 0
        now = self.clock.now_us()
        done = 0
        for hold in self.holds.active():
            for stream in STREAMS:
                for seg in self.catalog.segments(hold.camera_id, stream, hold.start_us, hold.end_us):
                    for copy in self.copies.copies(seg.id):
                        days = locking.get(copy.tier)
                        if days is None or copy.state is not CopyState.VERIFIED:
                            continue
                        try:
                            done += self._keep_locked(copy.tier, copy.key, days, now)
                        except StorageError as exc:
                            self.problems[copy.tier] = exc.message
                            log.warning("%s; trying again later", exc.message)
        return done

    def _keep_locked(self, tier_name: str, key: str, days: float, now: int) -> int:
        tier = self.tiers[tier_name]
        known = self._until.get((tier_name, key))
        if known is None:
            known = tier.locked_until(key) or 0
        span = int(days * US_PER_DAY)
        if known - now > span // 2:
            self._until[(tier_name, key)] = known
            return 0
        until = now + span
        tier.lock(key, until)
        self._until[(tier_name, key)] = until
        return 1

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                locked = self.tick()
                if locked:
                    log.info("object lock: %d held object(s) locked for longer", locked)
            except Exception:
                log.exception("keeping held footage locked failed; trying again")
            self._stop.wait(300.0)

    def stop(self) -> None:
        self._stop.set()
