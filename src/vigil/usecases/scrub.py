"""The scrub (ADR 0016): reads every hot segment file and every copy on a tier back whole, at least once in
``storage.scrub.every_days`` and at most ``storage.scrub.rate`` bytes a second, and checks each against the
catalog's SHA-256. What it finds damaged (another hash, or missing) it heals from a good copy elsewhere: a damaged
copy is written again from the hot file, the read cache or another tier's verified copy (and read back); a damaged
hot file is put back from a verified copy. A copy a reader found damaged is healed at the next look.

Each damaged object is one ``fault`` event (``data.fault = "storage"``, its tier, segment and camera), held open
until it is healed; the ticket engine opens one ticket per tier on ``<node>:tier:<name>`` (or ``<node>:disk``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from vigil.config.models import Config
from vigil.domain.errors import StorageError
from vigil.domain.segment import Segment
from vigil.domain.tiers import HOT, CopyState, SegmentCopy
from vigil.domain.timeutil import US_PER_DAY
from vigil.ports import Catalog, Clock, SegmentCopyStore, Tier, TieredStore
from vigil.usecases.mover import Throttle

log = logging.getLogger(__name__)
BATCH = 100  # files and copies looked at per look (of each)
RETRY_US = 3600 * 1_000_000  # a damaged copy without a good source is tried again after this
FAULT = "storage"


@dataclass
class ScrubReport:
    hot_checked: int = 0
    copies_checked: int = 0
    bytes_read: int = 0
    damaged: list[str] = field(default_factory=list)  # "<tier>:<path>" found damaged in this look
    healed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # tier -> why it could not be read
    more: bool = False  # a batch was full: look again at once


@dataclass(frozen=True, slots=True)
class OpenFault:
    event_id: int
    start_us: int
    description: str
    segment_id: int


def fault_key(tier: str, segment_id: int) -> str:
    return f"{FAULT}:{tier}:{segment_id}"


def where(tier: str) -> str:
    return "the hot disk" if tier == HOT else f"tier {tier!r}"


class Scrubber:
    def __init__(
        self,
        catalog: Catalog,
        copies: SegmentCopyStore,
        store: TieredStore,
        tiers: Mapping[str, Tier],
        clock: Clock,
        config: Callable[[], Config],
        throttle: Throttle | None = None,
    ) -> None:
        self.catalog, self.copies, self.store, self.tiers, self.clock = catalog, copies, store, tiers, clock
        self.config = config
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.throttle = throttle or Throttle(lambda: int(self.config().storage.scrub.rate), self._stop.wait)
        self._lock = threading.Lock()
        self._urgent: set[int] = set()  # segments whose copy a reader found damaged
        self._urgent_lock = threading.Lock()  # (readers add to it from their own threads)
        self._faults: dict[str, list[OpenFault]] | None = None  # open storage faults by object, loaded each look
        self._faults_lock = threading.Lock()
        self.last: ScrubReport | None = None

    # --- one look ------------------------------------------------------------------------------------------------
    def tick(self) -> ScrubReport:
        """Read back what is due (damaged copies first), heal what is damaged; the report of this look."""
        with self._lock:
            report = ScrubReport()
            now = self.clock.now_us()
            with self._faults_lock:
                self._faults = self._open_faults()
            stale = now - int(self.config().storage.scrub.every_days * US_PER_DAY)
            self._heal_urgent(report)
            hot = self.copies.hot_least_checked(stale, BATCH)
            for seg in hot:
                if self._stop.is_set():
                    break
                self._check_hot(seg, report)
            copies = self.copies.copies_least_checked(stale, now - RETRY_US, BATCH)
            for copy, seg in copies:
                if self._stop.is_set():
                    break
                if copy.tier in report.failed or copy.tier not in self.tiers:
                    continue
                try:
                    self._check_copy(copy, seg, report)
                except StorageError as exc:  # the tier cannot be read now: the next look tries again
                    report.failed[copy.tier] = exc.message
                    log.warning("scrub: %s; trying again later", exc.message)
            self._end_gone(now)
            report.more = len(hot) == BATCH or len(copies) == BATCH
            self.last = report
            return report

    def _check_hot(self, seg: Segment, report: ScrubReport) -> None:
        digest = self._hot_digest(seg)
        self._read(seg, report, hot=True)
        self.copies.hot_checked(seg.id, self.clock.now_us())
        if digest == seg.sha256:
            self._healed(HOT, seg, "read back whole", report)
            return
        problem = "missing" if digest is None else _other_hash(digest, seg)
        self.damaged(HOT, seg, problem, report)
        source = self.store.good_copy(seg, besides=HOT)
        if source is None:
            return  # the fault stays open: nothing whole to put back
        path, origin = source
        try:
            self.store.restore_hot(seg, path)
        except StorageError as exc:
            log.error("scrub: %s", exc.message)
            return
        self._read(seg, report)
        self._healed(HOT, seg, f"put back from {origin}", report)

    def _hot_digest(self, seg: Segment) -> str | None:
        try:
            return self.store.sha256(seg.path)
        except OSError:
            return None

    def _check_copy(self, copy: SegmentCopy, seg: Segment, report: ScrubReport) -> None:
        tier = self.tiers[copy.tier]
        digest = tier.sha256(copy.key)
        self._read(seg, report, copy=True)
        now = self.clock.now_us()
        if digest == seg.sha256:
            if copy.state is CopyState.DAMAGED:
                self.copies.verified(copy.id, seg.size_bytes, now)
                self._healed(copy.tier, seg, "found whole again", report)
            else:
                self.copies.checked(copy.id, now)
                self._healed(copy.tier, seg, "read back whole", report)
            return
        problem = "missing" if digest is None else _other_hash(digest, seg)
        self.copies.mark(copy.id, CopyState.DAMAGED, now, problem)
        self.damaged(copy.tier, seg, problem, report)
        self._heal_copy(copy, seg, report)

    def _heal_copy(self, copy: SegmentCopy, seg: Segment, report: ScrubReport) -> None:
        """Write a damaged copy again from a good source and read it back."""
        source = self.store.good_copy(seg, besides=copy.tier)
        if source is None:
            return  # the fault stays open; tried again after RETRY_US
        path, origin = source
        tier = self.tiers[copy.tier]
        tier.put(copy.key, path)
        self._read(seg, report)
        found = tier.sha256(copy.key)
        self._read(seg, report)
        now = self.clock.now_us()
        if found != seg.sha256:
            self.copies.mark(copy.id, CopyState.DAMAGED, now, "still damaged after it was written again")
            log.error("scrub: tier %s: %s is still damaged after it was written again", copy.tier, seg.path)
            return
        self.copies.verified(copy.id, seg.size_bytes, now)
        self._healed(copy.tier, seg, f"written again from {origin}", report)

    def _heal_urgent(self, report: ScrubReport) -> None:
        """Copies a reader found damaged since the last look: healed now."""
        with self._urgent_lock:
            urgent, self._urgent = self._urgent, set()
        for segment_id in sorted(urgent):
            seg = self.catalog.segment(segment_id)
            if seg is None:
                continue
            for copy in self.copies.copies(segment_id):
                if copy.state is CopyState.DAMAGED and copy.tier in self.tiers and copy.tier not in report.failed:
                    try:
                        self._heal_copy(copy, seg, report)
                    except StorageError as exc:
                        report.failed[copy.tier] = exc.message

    def _read(self, seg: Segment, report: ScrubReport, *, hot: bool = False, copy: bool = False) -> None:
        report.bytes_read += seg.size_bytes
        report.hot_checked += hot
        report.copies_checked += copy
        self.throttle.spent(seg.size_bytes)

    # --- the fault events ----------------------------------------------------------------------------------------
    def damaged(self, tier: str, seg: Segment, problem: str, report: ScrubReport | None = None) -> None:
        """One open fault event per damaged object (a second finding while it is open adds nothing); a copy a
        reader found damaged (``TieredFiles.on_damage``) is healed at the next look."""
        key = fault_key(tier, seg.id)
        if report is not None:
            report.damaged.append(f"{tier}:{seg.path}")
        else:
            with self._urgent_lock:
                self._urgent.add(seg.id)
            self._wake.set()
        with self._faults_lock:
            if self._faults is None:  # (a reader, before the first look)
                self._faults = self._open_faults()
            if key in self._faults:
                return
            text = f"{where(tier)}: {seg.path} ({seg.camera_id}) is damaged: {problem}"
            data = {"fault": FAULT, "key": key, "tier": tier, "segment_id": seg.id, "path": seg.path}
            now = self.clock.now_us()
            event_id = self.catalog.add_event("fault", now, text, data={**data, "camera": seg.camera_id})
            self._faults[key] = [OpenFault(event_id, now, text, seg.id)]
        log.error("%s", text)

    def _healed(self, tier: str, seg: Segment, how: str, report: ScrubReport) -> None:
        with self._faults_lock:
            open_ = (self._faults or {}).pop(fault_key(tier, seg.id), [])
        if not open_:
            return
        now = self.clock.now_us()
        for f in open_:
            self.catalog.end_event(f.event_id, max(now, f.start_us), f"{f.description}; healed: {how}")
        report.healed.append(f"{tier}:{seg.path}")
        log.info("scrub: %s: %s healed: %s", where(tier), seg.path, how)

    def _open_faults(self) -> dict[str, list[OpenFault]]:
        """The open storage faults by object (one query: the scrub looks them up for every object it reads)."""
        out: dict[str, list[OpenFault]] = {}
        for e in self.catalog.open_events(["fault"]):
            if e.data.get("fault") == FAULT:
                fault = OpenFault(e.id, e.start_us, e.description or "", int(e.data.get("segment_id", 0)))
                out.setdefault(str(e.data.get("key")), []).append(fault)
        return out

    def _end_gone(self, now: int) -> None:
        """A damaged object whose segment was deleted since (retention, destruction) is no fault any more."""
        with self._faults_lock:
            faults = self._faults or {}
            gone = [k for k, fs in faults.items() if self.catalog.segment(fs[0].segment_id) is None]
            ended = [f for k in gone for f in faults.pop(k)]
        for f in ended:
            self.catalog.end_event(f.event_id, max(now, f.start_us), f"{f.description}; the footage was deleted since")

    # --- running -------------------------------------------------------------------------------------------------
    def run(self) -> None:
        while not self._stop.is_set():
            try:
                report = self.tick()
                if report.more and not report.failed:
                    continue
            except Exception:
                log.exception("the scrub failed; trying again")
            self._wake.wait(self.config().storage.scrub.interval_s)
            self._wake.clear()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()


def _other_hash(digest: str, seg: Segment) -> str:
    return f"read back with SHA-256 {digest[:16]}..., not {seg.sha256[:16]}..."
