"""The mover (ADR 0016): copies segments to their tiers, verifies each copy by reading it back, and releases a
segment from the hot disk once its lifecycle rule says so and a verified copy exists. Copy rules copy as soon as a
segment is written (so one lost disk loses none of it); lifecycle rules move footage after ``hot_days`` and destroy
it after ``tier_days`` more. Uploads run ``storage.mover.parallel`` at a time, throttled to ``storage.mover.rate``
so recording never suffers.

Safe to stop anywhere: a copy is recorded ``verified`` only after its read-back matched, the hot file is unlinked
only after the catalog says the segment is released, a copy left ``copying`` is done again, and a hot file of a
released segment found at start-up is unlinked (``settle``)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat

from vigil.config.models import Config
from vigil.domain.errors import StorageError
from vigil.domain.segment import Segment
from vigil.domain.tiers import CopyState, Rule, copy_tiers, lifecycle_rule
from vigil.ports import Catalog, Clock, SegmentCopyStore, SegmentStore, Tier
from vigil.usecases.footage_kind import classify_due, event_footage
from vigil.usecases.retention import rules_of

log = logging.getLogger(__name__)
BATCH = 200  # segments looked at per rule and look


@dataclass
class MoveReport:
    copied: int = 0
    copied_bytes: int = 0
    released: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # tier -> the last error
    more: bool = False  # a batch was full: look again at once
    checked: set[str] = field(default_factory=set)  # tiers checked in this look


class Throttle:
    """At most ``rate`` bytes a second on average (sleeps after each upload as long as it took too little)."""

    def __init__(self, rate: Callable[[], int], sleep: Callable[[float], object] = time.sleep) -> None:
        self.rate, self.sleep = rate, sleep
        self._began = time.monotonic()
        self._sent = 0
        self._lock = threading.Lock()  # uploads running side by side share the budget (and wait in turn)

    def spent(self, size: int) -> None:
        rate = self.rate()
        if rate <= 0:
            return
        with self._lock:
            self._account(size, rate)

    def _account(self, size: int, rate: int) -> None:
        self._sent += size
        ahead = self._sent / rate - (time.monotonic() - self._began)
        if ahead > 0:
            self.sleep(ahead)
        if time.monotonic() - self._began > 60:  # forget old history: the average is over the last minute
            self._began, self._sent = time.monotonic(), 0


class Mover:
    def __init__(
        self,
        catalog: Catalog,
        copies: SegmentCopyStore,
        store: SegmentStore,
        tiers: Mapping[str, Tier],
        clock: Clock,
        config: Callable[[], Config],
        throttle: Throttle | None = None,
        lock_until: Callable[[Segment, str], int | None] = lambda seg, tier: None,
    ) -> None:
        """``lock_until(segment, tier)``: the object lock a copy is written with (held footage, ADR 0016)."""
        self.catalog, self.copies, self.store, self.tiers, self.clock = catalog, copies, store, tiers, clock
        self.config, self.lock_until = config, lock_until
        self.throttle = throttle or Throttle(lambda: int(self.config().storage.mover.rate))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._cursor: dict[str, int] = {}  # per rule (and "release"): the last segment id looked at
        self._pool: ThreadPoolExecutor | None = None  # the uploads of a window run side by side
        self._pool_width = 0
        self.problems: dict[str, str] = {}  # per tier: the last error, until a copy to it succeeds

    # --- one look ------------------------------------------------------------------------------------------------
    def tick(self) -> MoveReport:
        """Copy what the rules want copied, verify, release what is due; the report of this look."""
        report = MoveReport()
        with self._lock:
            life, copy_rules = rules_of(self.config())
            down: set[str] = set()
            now = self.clock.now_us()
            for index, rule in enumerate(copy_rules):
                self._copy_wanted(f"copies[{index}]", rule, now, copy_rules, life, report, down)
            for index, rule in enumerate(life):
                self._copy_wanted(f"lifecycle[{index}]", rule, now, copy_rules, life, report, down)
            self._release_due(life, now, report)
            if any(r.footage != "all" for r in (*life, *copy_rules)):
                margin = int(self.config().storage.mover.events_margin_s * 1e6)
                classify_due(self.catalog, self.copies, margin, now)  # so retention knows each segment's kind
        return report

    def _has_event(self, seg: Segment) -> bool:
        margin = int(self.config().storage.mover.events_margin_s * 1e6)
        return event_footage(self.catalog, self.copies, seg, margin, self.clock.now_us())

    def _wants(self, seg: Segment, tier: str, copy_rules: Sequence[Rule], life: Sequence[Rule], now: int) -> bool:
        """Does a rule want this hot segment on ``tier`` now?"""
        has_event = self._has_event(seg)
        if tier in copy_tiers(copy_rules, seg.camera_id, has_event):
            return True
        rule = lifecycle_rule(life, seg.camera_id, has_event)
        due = rule.leaves_hot_us(seg.end_us) if rule is not None else None
        return rule is not None and rule.tier == tier and due is not None and due <= now

    def _copy_wanted(
        self,
        key: str,
        rule: Rule,
        now: int,
        copy_rules: Sequence[Rule],
        life: Sequence[Rule],
        report: MoveReport,
        down: set[str],
    ) -> None:
        """Copy the hot segments ``rule`` wants on its tier (a copy rule: as soon as written; a lifecycle rule: once
        ``hot_days`` old), one batch a look, oldest first."""
        tier = rule.tier
        if tier in down or tier not in self.tiers:
            return
        if tier not in report.checked:  # once a look: reachable, credentials taken, the bucket there
            try:
                self.tiers[tier].check()  # (SeaweedFS would make a missing bucket on the first write)
            except StorageError as exc:
                self._failed(tier, exc, report, down)
                return
            report.checked.add(tier)
        due = rule.leaves_hot_us(0)
        ended_before = now - due if due is not None else now
        cameras = sorted(rule.cameras) if rule.cameras else None
        batch = self.copies.uncopied(tier, cameras, ended_before, BATCH, self._cursor.get(key, 0), rule.footage)
        self._cursor[key] = batch[-1].id if len(batch) == BATCH else 0  # the next look goes on, or starts again
        report.more = report.more or len(batch) == BATCH
        todo = [seg for seg in batch if self._wants(seg, tier, copy_rules, life, now) and self._hot_file(seg)]
        width = self.config().storage.mover.parallel
        for start in range(0, len(todo), width):  # ``parallel`` uploads at once; a failure stops the look
            if self._stop.is_set():
                return
            window = todo[start : start + width]
            outcomes = list(self._pool_of(width).map(self._try_copy, window, repeat(tier)))
            done = [seg for seg, exc in zip(window, outcomes, strict=True) if exc is None]
            report.copied += len(done)
            report.copied_bytes += sum(seg.size_bytes for seg in done)
            errors = [exc for exc in outcomes if exc is not None]
            if errors:
                self._failed(tier, errors[-1], report, down)
                return
            self.problems.pop(tier, None)

    def _pool_of(self, width: int) -> ThreadPoolExecutor:
        if self._pool is None or self._pool_width != width:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            self._pool = ThreadPoolExecutor(width, thread_name_prefix="vigil-mover")
            self._pool_width = width
        return self._pool

    def _try_copy(self, seg: Segment, tier: str) -> StorageError | None:
        try:
            self.copy(seg, tier)
        except StorageError as exc:
            return exc
        return None

    def _hot_file(self, seg: Segment) -> bool:
        if self.store.size(seg.path) is None:
            log.error("%s is catalogued on the hot disk but its file is gone (vigil check)", seg.path)
            return False
        return True

    def _failed(self, tier: str, exc: StorageError, report: MoveReport, down: set[str]) -> None:
        report.failed[tier] = self.problems[tier] = exc.message
        down.add(tier)
        log.warning("%s; trying again later", exc.message)

    def copy(self, seg: Segment, tier_name: str) -> None:
        """Upload one segment, read it back, and record the copy verified only when the hashes match."""
        tier = self.tiers[tier_name]
        record = self.copies.start(seg.id, tier_name, seg.path, self.clock.now_us())
        tier.put(seg.path, self.store.absolute(seg.path), locked_until_us=self.lock_until(seg, tier_name))
        self.throttle.spent(seg.size_bytes)
        found = tier.sha256(seg.path)
        if found != seg.sha256:
            note = "missing after the upload" if found is None else f"read back with SHA-256 {found[:16]}..."
            self.copies.mark(record.id, CopyState.DAMAGED, self.clock.now_us(), note)
            raise StorageError(f"tier {tier_name!r}: {seg.path} {note}, not {seg.sha256[:16]}...")
        self.copies.verified(record.id, seg.size_bytes, self.clock.now_us())

    def _release_due(self, life: Sequence[Rule], now: int, report: MoveReport) -> None:
        batch = self.copies.releasable(BATCH, self._cursor.get("release", 0))
        self._cursor["release"] = batch[-1][0].id if len(batch) == BATCH else 0
        for seg, tiers in batch:
            rule = lifecycle_rule(life, seg.camera_id, self._has_event(seg))
            due = rule.leaves_hot_us(seg.end_us) if rule is not None else None
            if rule is None or due is None or due > now or rule.tier not in tiers:
                continue
            if self.copies.release(seg.id):
                self.store.delete(seg.path)
                report.released += 1

    def settle(self) -> int:
        """At start-up: hot files of segments the catalog says are released (a node stopped between the two) go."""
        gone = 0
        for seg in self.copies.released_among(self.store.segment_files()):
            self.store.delete(seg.path)
            gone += 1
        return gone

    # --- running -------------------------------------------------------------------------------------------------
    def run(self) -> None:
        try:
            self.settle()
        except Exception:
            log.exception("the mover could not settle released segments' files")
        while not self._stop.is_set():
            try:
                report = self.tick()
                if report.copied or report.released:
                    log.info(
                        "mover: %d segment(s) copied (%d bytes), %d released from the hot disk",
                        report.copied,
                        report.copied_bytes,
                        report.released,
                    )
                if report.more and not report.failed:
                    continue
            except Exception:
                log.exception("the mover failed; trying again")
            self._stop.wait(self.config().storage.mover.interval_s)

    def stop(self) -> None:
        self._stop.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
