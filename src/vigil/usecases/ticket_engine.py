"""The ticket engine: faults that persist become maintenance tickets, repairs are verified, deadlines are watched.

One thread (:meth:`TicketEngine.start`) runs :meth:`tick` at least every ``check_interval_s`` and as soon as a
fault's threshold passes (the bus wakes it when a fault or an outage is published). Everything it decides is read
from the catalog at each tick, never only from memory, so a restart resumes where it was (a verification under way
goes on; the faults open at the restart are the faults still there):

1. **Faults** are the open ``camera_offline`` events (per camera) and the open ``fault`` events (per camera and kind:
   the picture faults of the analysis, the low frame rate or bitrate found here against the camera's own normal, a
   process restarting in a loop). A fault that has lasted its kind's threshold becomes a ticket, or is attached to
   the ticket of its episode, or reopens the ticket verified or closed within the reopen window
   (:func:`vigil.domain.tickets.episode_ticket`).
2. **Outages behind shared equipment** (cameras depending on one switch, port group or power supply dropping within
   ``group_window_s``) become one ticket on that equipment listing the cameras (:func:`shared_causes`).
3. **Clearing and verification**: a ticket whose fault went away is marked so (and resolved on Vigil's behalf when
   nobody had, with ``auto_resolve``); a resolved ticket is verified once its cameras have been healthy for
   ``verify_s``, or sent back to work with the reason when the fault is still there after ``verify_grace_s``.
4. **Deadlines**: a ticket that misses its respond or restore deadline raises a ``ticket_overdue`` event (alarm rules
   and notification routes take it like any event) and tells the ticket channels; verified tickets close after
   ``close_verified_after_s``.

Each ticket change is stored with its history entry and its notifications (MQTT ``vigil/tickets``) in one
transaction. :meth:`tick` is what the thread calls; tests call it directly with a fake clock.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from statistics import median
from typing import Any, Protocol

from vigil.config.models import Config
from vigil.domain.audit import SYSTEM_ACTOR
from vigil.domain.errors import Conflict, VigilError
from vigil.domain.notifications import NODE_KEY, NewNotification, NotificationKind
from vigil.domain.records import EventRecord
from vigil.domain.tickets import (
    FAULT_KINDS,
    PICTURE_KINDS,
    STREAM_KINDS,
    FaultState,
    Outage,
    ServiceLevel,
    Ticket,
    TicketChange,
    TicketHistoryEntry,
    TicketKind,
    TicketSource,
    TicketState,
    Verdict,
    auto_closed,
    deadlines,
    episode_ticket,
    fault_cleared,
    marked_overdue,
    next_deadline_us,
    not_verified,
    overdue_now,
    reopened,
    seen_again,
    shared_causes,
    ticket_body,
    ticket_title,
    verification,
    verified,
)
from vigil.domain.tiers import HOT, storage_equipment, tier_of_equipment
from vigil.domain.timeutil import iso_from_us
from vigil.ports import Catalog, Clock, TicketStore
from vigil.usecases.event_bus import EventPublished
from vigil.usecases.notifications import Outbox

log = logging.getLogger(__name__)
OFFLINE_EVENT, FAULT_EVENT, STREAM_EVENT = "camera_offline", "fault", "stream_fault"
OVERDUE_EVENT, CAPACITY_EVENT = "ticket_overdue", "storage_capacity"
FAULT_TYPES = [OFFLINE_EVENT, FAULT_EVENT, STREAM_EVENT, CAPACITY_EVENT]
NODE_KINDS = (TicketKind.RESTART_LOOP, TicketKind.DISK, TicketKind.STORAGE)  # faults of the node, not of a camera
NORMS_EVERY_US = 10_000_000  # frame rate and bitrate are compared with their normal every 10 s
BASELINE_EVERY_US = 600_000_000  # ... whose normal is computed again every 10 minutes
US = 1_000_000


@dataclass(frozen=True)
class TicketSettings:
    """What the engine reads from the configuration in force."""

    enabled: bool
    thresholds_us: Mapping[TicketKind, int]
    priorities: Mapping[TicketKind, int]
    levels: Mapping[int, ServiceLevel]
    reopen_window_us: int
    verify_us: int
    grace_us: int
    auto_resolve: bool
    close_after_us: int | None
    group_window_us: int
    group_min_share: float
    low_ratio: float
    baseline_us: int
    min_baseline_segments: int
    restart_count: int
    restart_window_us: int
    channels: tuple[str, ...]
    notify_changes: frozenset[str]
    node_id: str
    check_interval_s: float
    cameras: Mapping[str, str]  # camera id -> name, of the cameras recorded now
    timezone: str = "UTC"

    @classmethod
    def of(cls, config: Config) -> TicketSettings:
        m = config.maintenance
        kinds = [k for k in TicketKind]
        return cls(
            enabled=m.enabled,
            thresholds_us={k: int(m.thresholds_s.seconds(k) * US) for k in kinds if k in FAULT_KINDS},
            priorities={k: m.priorities.of(k) for k in kinds},
            levels=m.levels(),
            reopen_window_us=int(m.reopen_window_s * US),
            verify_us=int(m.verify_s * US),
            grace_us=int(m.verify_grace_s * US),
            auto_resolve=m.auto_resolve,
            close_after_us=None if m.close_verified_after_s is None else int(m.close_verified_after_s * US),
            group_window_us=int(m.group_window_s * US),
            group_min_share=m.group_min_share,
            low_ratio=m.stream_norms.low_ratio,
            baseline_us=int(m.stream_norms.baseline_hours * 3600 * US),
            min_baseline_segments=m.stream_norms.min_baseline_segments,
            restart_count=m.restart_loop.count,
            restart_window_us=int(m.restart_loop.window_s * US),
            channels=tuple(m.notify.channels),
            notify_changes=frozenset(m.notify.changes),
            node_id=m.node_id,
            check_interval_s=m.check_interval_s,
            cameras={c.id: c.name for c in config.cameras if c.enabled and c.record},
            timezone=config.site.timezone,
        )


class TicketPictures(Protocol):
    """The pictures a ticket carries, taken when it opens (``vigil.runtime``)."""

    def good(self, camera_id: str, before_us: int, after_us: int) -> bytes | None:
        """The camera's last picture recorded after ``after_us`` (its last fault ended) and before ``before_us``
        (this one began): its last good picture, or None."""
        ...

    def snapshot(self, relpath: str) -> bytes | None:
        """An event's snapshot (the faulty picture), or None."""
        ...

    def keep(self, ticket_id: int, name: str, jpeg: bytes) -> str:
        """Keep a ticket's picture; its path."""
        ...


class Graph(Protocol):
    def __call__(self) -> Mapping[str, Sequence[str]]: ...


@dataclass
class Fault:
    """A fault present now: on ``equipment_id`` (a camera, or the node), of ``kind``, since ``since_us``."""

    equipment_id: str
    kind: TicketKind
    cameras: tuple[str, ...]
    since_us: int
    event_ids: list[int] = field(default_factory=list)
    description: str = ""
    snapshot: str = ""


def ticket_notifications(
    outbox: Outbox | None, ticket: Ticket, change: str, settings: TicketSettings, detail: str = ""
) -> list[NewNotification]:
    """One notification per ticket channel (kind ``ticket``: MQTT ``vigil/tickets``) when ``change`` is told."""
    if outbox is None or change not in settings.notify_changes:
        return []
    body = ticket_body(ticket, change, detail)
    key = ticket.cameras[0] if len(ticket.cameras) == 1 else NODE_KEY
    out = []
    for channel in settings.channels:
        if not outbox.has_channel(channel):
            log.warning("ticket %s: no channel %r running (restart to add it)", ticket.id, channel)
            continue
        out.append(outbox.prepare(channel, NotificationKind.TICKET, body, key))
    return out


@dataclass
class _Norm:
    fps: float = 0.0
    kbps: float = 0.0
    at_us: int = 0


class TicketEngine:
    def __init__(
        self,
        store: TicketStore,
        catalog: Catalog,
        graph: Graph,
        clock: Clock,
        settings: Callable[[], TicketSettings],
        outbox: Outbox | None = None,
        pictures: TicketPictures | None = None,
        equipment_names: Callable[[], Mapping[str, str]] = dict,
    ) -> None:
        self.store, self.catalog, self.graph, self.clock = store, catalog, graph, clock
        self.settings = settings
        self.outbox = outbox
        self.pictures = pictures
        self.equipment_names = equipment_names
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()  # tick and a person's act through the desk never interleave badly
        self._norms: dict[str, _Norm] = {}
        self._norms_checked_us = 0
        self._low: dict[tuple[str, str], int] = {}  # (camera, low_fps|low_bitrate) -> its open fault event
        self._restarts: dict[str, deque[int]] = {}  # process -> recent restart times
        self._loops: dict[str, int] = {}  # process -> its open restart_loop fault event
        self.opened_at: dict[int, int] = {}  # ticket id -> when it was opened (benchmarks)
        # kinds whose repair another part of Vigil judges (degradation: the daily quality check after the resolve)
        self.repair_checks: dict[TicketKind, Callable[[Ticket, int], Verdict]] = {}

    # --- the bus and the runtime tell it things ------------------------------------------------------------------
    def on_event(self, published: EventPublished) -> None:
        """The bus subscriber: a fault or an outage began or ended: look now (never blocks the publisher)."""
        if published.record.type in (*FAULT_TYPES, "camera_online"):
            self._wake.set()

    def process_restarted(self, process: str, cameras: Sequence[str], at_us: int) -> None:
        """A recorder or analysis process died and is being restarted; a loop of them is a fault of the node."""
        s = self.settings()
        with self._lock:
            times = self._restarts.setdefault(process, deque(maxlen=100))
            times.append(at_us)
            recent = [t for t in times if at_us - t <= s.restart_window_us]
            if len(recent) >= s.restart_count and process not in self._loops:
                text = (
                    f"Vigil's {process} process restarted {len(recent)} times in "
                    f"{s.restart_window_us // US} s (cameras: {', '.join(cameras) or 'none'})"
                )
                data = {"fault": TicketKind.RESTART_LOOP.value, "key": f"fault:restart:{process}", "process": process}
                data["cameras"] = list(cameras)  # type: ignore[assignment]
                self._loops[process] = self.catalog.add_event(FAULT_EVENT, recent[0], text, data=data)
        self._wake.set()

    # --- one look ------------------------------------------------------------------------------------------------
    def tick(self) -> list[Ticket]:
        """Open, attach, reopen, clear, verify, mark overdue and close tickets as the catalog says; the tickets
        changed."""
        s = self.settings()
        out: list[Ticket] = []
        with self._lock:
            now = self.clock.now_us()
            self._end_restart_loops(now, s)
            if s.enabled:
                self._check_norms(now, s)
                out += self._open_from_faults(now, s)
            out += self._follow_up(now, s)
        return out

    def next_due_us(self) -> int | None:
        """When the next fault passes its threshold, or a ticket its deadline."""
        s = self.settings()
        due: list[int] = []
        for f in self._faults(s):
            due.append(f.since_us + self._hold_us(f.kind, s))
        for t in self.store.unverified():
            d = next_deadline_us(t)
            if d is not None:
                due.append(d)
            if t.state is TicketState.RESOLVED and t.resolved_us is not None:
                due.append(t.resolved_us + s.verify_us)
        return min(due) if due else None

    def _hold_us(self, kind: TicketKind, s: TicketSettings) -> int:
        hold = s.thresholds_us.get(kind, 0)
        return max(hold, s.group_window_us) if kind is TicketKind.OFFLINE else hold

    # --- faults --------------------------------------------------------------------------------------------------
    def _faults(self, s: TicketSettings) -> list[Fault]:
        """The faults present now, per camera (or node) and kind."""
        found: dict[tuple[str, TicketKind], Fault] = {}
        for e in self.catalog.open_events(FAULT_TYPES):
            kind, equipment, cameras = self._kind_of(e, s)
            if kind is None or equipment is None:
                continue
            key = (equipment, kind)
            fault = found.get(key)
            if fault is None:
                found[key] = Fault(equipment, kind, cameras, e.start_us, [e.id], e.description, _snapshot(e))
            else:
                fault.since_us = min(fault.since_us, e.start_us)
                fault.event_ids.append(e.id)
                fault.snapshot = fault.snapshot or _snapshot(e)
        return list(found.values())

    def _kind_of(self, e: EventRecord, s: TicketSettings) -> tuple[TicketKind | None, str | None, tuple[str, ...]]:
        if e.type == OFFLINE_EVENT:
            if e.camera_id is None or e.camera_id not in s.cameras:
                return None, None, ()
            return TicketKind.OFFLINE, e.camera_id, (e.camera_id,)
        if e.type == CAPACITY_EVENT:  # the retention cannot keep the legal minimum: the disk is too small
            return TicketKind.DISK, f"{s.node_id}:disk", ()
        name = str(e.data.get("fault", ""))
        if name not in set(TicketKind):
            return None, None, ()
        kind = TicketKind(name)
        if kind is TicketKind.RESTART_LOOP:
            return kind, s.node_id, tuple(str(c) for c in e.data.get("cameras", ()))
        if kind is TicketKind.DISK:
            return kind, f"{s.node_id}:disk", ()
        if kind is TicketKind.STORAGE:  # one ticket per tier, however many objects on it are damaged
            return kind, storage_equipment(s.node_id, str(e.data.get("tier", HOT))), ()
        if e.camera_id is None or e.camera_id not in s.cameras:
            return None, None, ()
        return kind, e.camera_id, (e.camera_id,)

    def _open_from_faults(self, now: int, s: TicketSettings) -> list[Ticket]:
        faults = self._faults(s)
        linked = self.store.linked_events([i for f in faults for i in f.event_ids])
        out: list[Ticket] = []
        # outages behind shared equipment first: one ticket on the equipment, not one per camera
        offline = {f.equipment_id: f for f in faults if f.kind is TicketKind.OFFLINE}
        grouped: set[str] = set()
        if len(offline) >= 2:
            graph = self.graph()
            outages = [Outage(c, f.since_us) for c, f in offline.items()]
            for cause in shared_causes(outages, graph, s.cameras, s.group_window_us, s.group_min_share):
                if now - cause.since_us < self._hold_us(TicketKind.OFFLINE, s):
                    grouped.update(cause.cameras)  # wait for the group's threshold: no camera goes alone meanwhile
                    continue
                members = [offline[c] for c in cause.cameras]
                events = [i for f in members for i in f.event_ids if i not in linked]
                grouped.update(cause.cameras)
                if not events:
                    continue
                group = Fault(
                    cause.equipment_id,
                    TicketKind.OFFLINE,
                    cause.cameras,
                    cause.since_us,
                    events,
                    f"{len(cause.cameras)} cameras behind {cause.equipment_id} offline since "
                    f"{iso_from_us(cause.since_us)}",
                )
                made = self._episode(group, now, s)
                if made is not None:
                    out.append(made)
        for f in faults:
            if f.kind is TicketKind.OFFLINE and f.equipment_id in grouped:
                continue
            if now - f.since_us < self._hold_us(f.kind, s):
                continue
            fresh = [i for i in f.event_ids if i not in linked]
            if not fresh:
                continue
            made = self._episode(replace(f, event_ids=fresh), now, s)
            if made is not None:
                out.append(made)
        return out

    def _episode(self, f: Fault, now: int, s: TicketSettings) -> Ticket | None:
        latest = self.store.latest(f.equipment_id, f.kind.value)
        action, ticket = episode_ticket([latest] if latest else [], f.equipment_id, f.kind, now, s.reopen_window_us)
        try:
            if action == "attach" and ticket is not None:
                return self._attach(ticket, f, now, s)
            if action == "reopen" and ticket is not None:
                return self._reopen(ticket, f, now, s)
            return self._open(f, now, s)
        except Conflict:
            log.info("ticket for %s %s changed meanwhile; the next look tries again", f.equipment_id, f.kind.value)
            return None

    def _open(self, f: Fault, now: int, s: TicketSettings) -> Ticket:
        names = self.equipment_names()
        name = names.get(f.equipment_id) or s.cameras.get(f.equipment_id) or f.equipment_id
        priority = s.priorities.get(f.kind, 3)
        respond, restore = deadlines(now, priority, s.levels)
        ticket = Ticket(
            id=0,
            equipment_id=f.equipment_id,
            kind=f.kind,
            title=ticket_title(f.kind, name, f.cameras),
            priority=priority,
            state=TicketState.OPEN,
            source=TicketSource.FAULT.value,
            opened_us=now,
            opened_by=SYSTEM_ACTOR,
            updated_us=now,
            cameras=f.cameras,
            source_ref=f"event:{f.event_ids[0]}",
            first_seen_us=f.since_us,
            last_seen_us=now,
            respond_due_us=respond,
            restore_due_us=restore,
            detail=f.description,
        )
        detail = {"events": f.event_ids, "cameras": list(f.cameras), "since_us": f.since_us}
        entry = TicketHistoryEntry(0, now, SYSTEM_ACTOR, TicketChange.OPENED, detail)

        def notices(stored: Ticket) -> list[NewNotification]:
            return ticket_notifications(self.outbox, stored, TicketChange.OPENED, s, f.description)

        stored = self.store.add(ticket, entry, f.event_ids, notices)
        self.opened_at[stored.id] = now
        log.info("ticket %s opened: %s (%s)", stored.id, stored.title, f.description)
        self._wake_outbox()
        return self._with_pictures(stored, f)

    def _attach(self, ticket: Ticket, f: Fault, now: int, s: TicketSettings) -> Ticket:
        cameras = tuple(dict.fromkeys((*ticket.cameras, *f.cameras)))
        added = [c for c in cameras if c not in ticket.cameras]
        new = replace(seen_again(ticket, f.since_us, now), cameras=cameras)
        if len(cameras) > 1 and added:
            names = self.equipment_names()
            name = names.get(ticket.equipment_id) or ticket.equipment_id
            new = replace(new, title=ticket_title(ticket.kind, name, cameras))
        change = TicketChange.CAMERA_ADDED if added else TicketChange.SEEN_AGAIN
        entry = TicketHistoryEntry(ticket.id, now, SYSTEM_ACTOR, change, {"events": f.event_ids, "cameras": added})
        stored = self.store.update(new, ticket.revision, entry, event_ids=f.event_ids)
        if not stored.good_picture or (f.snapshot and not stored.fault_picture):
            stored = self._with_pictures(stored, f)  # the first episode gave none (no healthy stretch before it)
        return stored

    def _reopen(self, ticket: Ticket, f: Fault, now: int, s: TicketSettings) -> Ticket:
        new = replace(
            reopened(ticket, f.since_us, now, s.levels), cameras=tuple(dict.fromkeys((*ticket.cameras, *f.cameras)))
        )
        detail = {"events": f.event_ids, "since_us": f.since_us, "was": ticket.state.value}
        entry = TicketHistoryEntry(ticket.id, now, SYSTEM_ACTOR, TicketChange.REOPENED, detail)
        items = ticket_notifications(self.outbox, new, TicketChange.REOPENED, s, f.description)
        stored = self.store.update(new, ticket.revision, entry, items, f.event_ids)
        self._wake_outbox()
        log.info("ticket %s reopened: %s came back (%s)", ticket.id, f.kind.value, f.description)
        return self._with_pictures(stored, f)

    def _with_pictures(self, ticket: Ticket, f: Fault) -> Ticket:
        """The last good picture and the faulty one, kept with the ticket (best effort: a ticket never waits for
        a picture that cannot be had)."""
        if self.pictures is None or not f.cameras:
            return ticket
        camera = f.cameras[0]
        good = fault = ""
        try:
            jpeg = self.pictures.good(camera, f.since_us, self._healthy_after(camera, f.since_us))
            if jpeg:
                good = self.pictures.keep(ticket.id, f"good-{ticket.reopened}", jpeg)
            if f.snapshot:
                shot = self.pictures.snapshot(f.snapshot)
                if shot:
                    fault = self.pictures.keep(ticket.id, f"fault-{ticket.reopened}", shot)
        except (OSError, VigilError):
            log.warning("ticket %s: its pictures could not be kept", ticket.id, exc_info=True)
        if not good and not fault:
            return ticket
        return self.store.set_pictures(ticket.id, good or ticket.good_picture, fault or ticket.fault_picture)

    def _healthy_after(self, camera: str, before_us: int) -> int:
        """When the camera's last fault (or outage) before ``before_us`` ended: its picture was good since."""
        found = self.catalog.events(camera_id=camera, types=FAULT_TYPES, end_us=before_us, limit=50)
        ends = [e.end_us for e in found if e.end_us is not None and e.end_us <= before_us]
        return max(ends, default=0)

    # --- after the ticket is open ----------------------------------------------------------------------------------
    def _follow_up(self, now: int, s: TicketSettings) -> list[Ticket]:
        out: list[Ticket] = []
        open_faults = self._open_by_camera()
        for ticket in self.store.unverified():
            try:
                changed = self._follow(ticket, now, s, open_faults)
            except Conflict:
                continue  # a person changed it meanwhile: look again next time
            if changed is not None:
                out.append(changed)
        if s.close_after_us is not None:
            for ticket in self.store.verified():
                if ticket.verified_us is not None and now - ticket.verified_us >= s.close_after_us:
                    try:
                        out.append(self._store(ticket, auto_closed(ticket, now), TicketChange.CLOSED, {}, s))
                    except Conflict:
                        continue
        return out

    def _open_by_camera(self) -> dict[str, list[EventRecord]]:
        out: dict[str, list[EventRecord]] = {}
        for e in self.catalog.open_events(FAULT_TYPES):
            if e.camera_id is not None:
                out.setdefault(e.camera_id, []).append(e)
        return out

    def _follow(
        self, ticket: Ticket, now: int, s: TicketSettings, open_faults: Mapping[str, Sequence[EventRecord]]
    ) -> Ticket | None:
        own = self._own_fault(ticket, open_faults, s.node_id)
        current = ticket
        seen = (
            ticket.first_seen_us is not None
        )  # Vigil saw this fault (a ticket opened by hand may name one it did not)
        if seen and (ticket.kind in FAULT_KINDS or ticket.kind in NODE_KINDS):
            if own.present and ticket.fault_cleared_us is not None:
                current = self._store(current, seen_again(current, now, now), TicketChange.SEEN_AGAIN, {}, s)
            elif not own.present and ticket.fault_cleared_us is None:
                cleared = own.healthy_since_us or now
                new = fault_cleared(current, cleared, now, s.auto_resolve)
                detail = {"at_us": cleared, "resolved": new.state is TicketState.RESOLVED}
                current = self._store(current, new, TicketChange.FAULT_CLEARED, detail, s)
        which = overdue_now(current, now)
        if which:
            current = self._overdue(current, which, now, s)
        if current.state is TicketState.RESOLVED:
            check = self.repair_checks.get(current.kind)
            if check is not None:
                verdict = check(current, now)
            else:
                verdict = verification(current, self._health(current, open_faults, own), now, s.verify_us, s.grace_us)
            if verdict.outcome == "verified":
                current = self._store(current, verified(current, now), TicketChange.VERIFIED, {}, s)
                log.info("ticket %s verified: %s", current.id, current.title)
            elif verdict.outcome == "failed":
                new = not_verified(current, verdict.reason, now)
                current = self._store(current, new, TicketChange.NOT_VERIFIED, {"reason": verdict.reason}, s)
                log.info("ticket %s %s", current.id, verdict.reason)
            elif verdict.reason and verdict.reason != current.verify_note:
                current = self.store.set_note(current.id, verdict.reason)
        return current if current is not ticket else None

    def _own_fault(self, ticket: Ticket, open_faults: Mapping[str, Sequence[EventRecord]], node_id: str) -> FaultState:
        """Is the ticket's own fault still there (on any of its cameras)? When not, since when."""
        if ticket.kind is TicketKind.STORAGE:
            tier = tier_of_equipment(node_id, ticket.equipment_id)

            def on_tier(e: EventRecord) -> bool:
                return e.data.get("fault") == ticket.kind.value and str(e.data.get("tier", HOT)) == tier

            damaged = [e for e in self.catalog.open_events([FAULT_EVENT]) if on_tier(e)]
            if damaged:
                return FaultState(True, None, damaged[0].description)
            ended = [e.end_us or 0 for e in self.catalog.events(types=[FAULT_EVENT], limit=50) if on_tier(e)]
            return FaultState(False, max(ended, default=0) or None)
        if ticket.kind in NODE_KINDS:
            loops = [
                e
                for e in self.catalog.events(types=[FAULT_EVENT, CAPACITY_EVENT], limit=50)
                if e.camera_id is None
                and (
                    e.data.get("fault") == ticket.kind.value
                    or (ticket.kind is TicketKind.DISK and e.type == CAPACITY_EVENT)
                )
            ]
            if any(e.end_us is None for e in loops):
                return FaultState(True, None, next(e.description for e in loops if e.end_us is None))
            return FaultState(False, max((e.end_us or 0 for e in loops), default=0) or None)
        if ticket.kind not in FAULT_KINDS:
            return FaultState(False, None)
        matches = [e for c in ticket.cameras for e in open_faults.get(c, ()) if _is_kind(e, ticket.kind)]
        if matches:
            return FaultState(True, None, matches[0].description)
        return FaultState(False, self._last_end(ticket.cameras, ticket.kind))

    def _health(self, ticket: Ticket, open_faults: Mapping[str, Sequence[EventRecord]], own: FaultState) -> FaultState:
        """For verification: the ticket's fault gone, and its cameras recording with a healthy picture."""
        if own.present:
            return own
        others = [
            e
            for c in ticket.cameras
            for e in open_faults.get(c, ())
            if e.type == OFFLINE_EVENT or str(e.data.get("fault", "")) in {k.value for k in PICTURE_KINDS}
        ]
        if others:
            return FaultState(True, None, others[0].description)
        since = own.healthy_since_us or 0
        for kind in (TicketKind.OFFLINE, *PICTURE_KINDS):
            if ticket.cameras:
                since = max(since, self._last_end(ticket.cameras, kind) or 0)
        return FaultState(False, since or None)

    def _last_end(self, cameras: Iterable[str], kind: TicketKind) -> int | None:
        types = [OFFLINE_EVENT if kind is TicketKind.OFFLINE else STREAM_EVENT if kind in STREAM_KINDS else FAULT_EVENT]
        best: int | None = None
        for camera in cameras:
            for e in self.catalog.events(camera_id=camera, types=types, limit=50):
                if _is_kind(e, kind) and e.end_us is not None:
                    best = e.end_us if best is None else max(best, e.end_us)
                    break
        return best

    def _overdue(self, ticket: Ticket, which: Sequence[str], now: int, s: TicketSettings) -> Ticket:
        new = marked_overdue(ticket, which, now)
        words = " and ".join({"respond": "to respond", "restore": "to restore"}[w] for w in which)
        text = f"Maintenance ticket {ticket.id} (P{ticket.priority}) missed its deadline {words}: {ticket.title}"
        stored = self._store(ticket, new, TicketChange.OVERDUE, {"deadlines": list(which)}, s, text)
        camera = ticket.cameras[0] if len(ticket.cameras) == 1 else None
        data: dict[str, Any] = {"ticket": ticket.id, "deadlines": list(which), "priority": ticket.priority}
        data["equipment"] = ticket.equipment_id
        self.catalog.add_event(OVERDUE_EVENT, now, text, camera_id=camera, end_us=now, data=data)
        return stored

    def _store(
        self,
        old: Ticket,
        new: Ticket,
        change: TicketChange,
        detail: dict[str, Any],
        s: TicketSettings,
        words: str = "",
    ) -> Ticket:
        entry = TicketHistoryEntry(old.id, new.updated_us, SYSTEM_ACTOR, change, detail)
        items = ticket_notifications(self.outbox, new, change, s, words)
        stored = self.store.update(new, old.revision, entry, items)
        if items:
            self._wake_outbox()
        return stored

    def _wake_outbox(self) -> None:
        if self.outbox is not None:
            self.outbox.wake()

    # --- frame rate and bitrate against the camera's own normal ------------------------------------------------------
    def _check_norms(self, now: int, s: TicketSettings) -> None:
        if now - self._norms_checked_us < NORMS_EVERY_US:
            return
        self._norms_checked_us = now
        health = {(h.camera_id, h.stream): h for h in self.catalog.health()}
        for camera in s.cameras:
            row = health.get((camera, "main"))
            norm = self._norm(camera, now, s)
            for kind, value, normal in (
                (TicketKind.LOW_FPS, row.fps if row else 0.0, norm.fps if norm else 0.0),
                (TicketKind.LOW_BITRATE, row.bitrate_kbps if row else 0.0, norm.kbps if norm else 0.0),
            ):
                key = (camera, kind.value)
                low = row is not None and row.connected and normal > 0 and 0 < value < s.low_ratio * normal
                if low and key not in self._low:
                    unit = "frames/s" if kind is TicketKind.LOW_FPS else "kb/s"
                    text = (
                        f"Camera {camera}: {kind.value.replace('_', ' ')}: {value:.1f} {unit}, its normal is "
                        f"{normal:.1f} {unit} (below {100 * s.low_ratio:.0f}%)"
                    )
                    data = {"fault": kind.value, "key": f"fault:{kind.value}", "value": value, "normal": normal}
                    self._low[key] = self.catalog.add_event(STREAM_EVENT, now, text, camera_id=camera, data=data)
                elif not low and key in self._low and (row is None or row.connected):
                    self.catalog.end_event(self._low.pop(key), now)

    def _norm(self, camera: str, now: int, s: TicketSettings) -> _Norm | None:
        norm = self._norms.get(camera)
        if norm is not None and now - norm.at_us < BASELINE_EVERY_US:
            return norm if norm.fps > 0 else None
        segments = self.catalog.segments(camera, "main", now - s.baseline_us, now)
        rates = [
            (g.frame_count / (g.duration_us / US), g.size_bytes * 8 / 1000 / (g.duration_us / US))
            for g in segments
            if g.duration_us >= US
        ]
        norm = _Norm(at_us=now)
        if len(rates) >= s.min_baseline_segments:
            norm.fps = median(r[0] for r in rates)
            norm.kbps = median(r[1] for r in rates)
        self._norms[camera] = norm
        return norm if norm.fps > 0 else None

    def _end_restart_loops(self, now: int, s: TicketSettings) -> None:
        for process, event_id in list(self._loops.items()):
            times = self._restarts.get(process) or deque()
            if not times or now - times[-1] > s.restart_window_us:
                self.catalog.end_event(event_id, now)
                del self._loops[process]

    # --- the thread ------------------------------------------------------------------------------------------------
    def start(self) -> None:
        now = self.clock.now_us()
        for e in self.catalog.open_events([STREAM_EVENT]):  # this engine's own, left open by a previous run
            self.catalog.end_event(e.id, max(now, e.start_us), f"{e.description} (closed at Vigil's restart)")
        try:
            self.tick()
        except VigilError:
            log.exception("tickets: the first look failed; trying again")
        self._thread = threading.Thread(target=self._run, name="ticket-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wake(self) -> None:
        self._wake.set()

    def _wait_s(self) -> float:
        interval = self.settings().check_interval_s
        try:
            due = self.next_due_us()
        except VigilError:
            return interval
        if due is None:
            return interval
        return min(interval, max(0.0, (due - self.clock.now_us()) / 1e6) + 0.01)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._wait_s())
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.tick()
            except Exception:
                log.exception("tickets: a look failed; trying again")
                self._stop.wait(1.0)


def _snapshot(e: EventRecord) -> str:
    return str(e.data.get("snapshot", "") or "")


def _is_kind(e: EventRecord, kind: TicketKind) -> bool:
    if kind is TicketKind.OFFLINE:
        return e.type == OFFLINE_EVENT
    return e.type in (FAULT_EVENT, STREAM_EVENT) and e.data.get("fault") == kind.value
