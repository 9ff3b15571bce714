"""Maintenance tickets (work orders) as data: what a ticket holds, its life cycle, its service-level deadlines,
which fault episode it belongs to, which outages share a root cause, and when a repair counts as verified. Pure:
no I/O, no clock reads; every function is given ``now``.

A ticket's life cycle::

    open --acknowledge--> acknowledged --start--> in_progress <--> waiting (parts, the vendor)
      \\________________________\\___________________\\________________\\--resolve--> resolved
    resolved --Vigil sees the picture healthy for verify_s--> verified --close (a person, or after a while)--> closed
    resolved --the fault is still there after the grace time--> in_progress (the reason is written on the ticket)
    verified / closed --the same fault again within the reopen window--> open (reopened)

A person *resolves*; only Vigil *verifies* (:func:`verification`), from the catalog's gaps and fault events, so
closing never rests on somebody's word. A fault that clears by itself resolves its ticket on Vigil's behalf and is
verified the same way.

Every change made by a person names the ``revision`` they saw: two people changing one ticket at once cannot both
win unseen (:func:`check_revision`); the loser is told who changed it and must look again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from vigil.domain.equipment import Graph, downstream
from vigil.domain.errors import Conflict, InvalidRequest

PRIORITIES = (1, 2, 3, 4)  # 1 is the most urgent
MAX_TEXT_CHARS = 2000
MAX_PARTS = 50


class TicketState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"  # for parts or the vendor
    RESOLVED = "resolved"  # a person says it is fixed; Vigil is checking
    VERIFIED = "verified"  # Vigil saw it healthy for long enough
    CLOSED = "closed"


WORKING_STATES = frozenset({TicketState.OPEN, TicketState.ACKNOWLEDGED, TicketState.IN_PROGRESS, TicketState.WAITING})
UNVERIFIED_STATES = WORKING_STATES | {TicketState.RESOLVED}  # the ticket is not done yet
DONE_STATES = frozenset({TicketState.VERIFIED, TicketState.CLOSED})


class TicketKind(StrEnum):
    """The fault (or the work) a ticket is about."""

    OFFLINE = "offline"  # the camera (or everything behind a switch) stopped recording
    FROZEN = "frozen"
    BLACK = "black"
    OVEREXPOSED = "overexposed"
    BLURRED = "blurred"
    COVERED = "covered"
    MOVED = "moved"
    LOW_FPS = "low_fps"  # frame rate well below the camera's own normal
    LOW_BITRATE = "low_bitrate"
    RESTART_LOOP = "restart_loop"  # a recorder or analysis process restarting again and again
    DISK = "disk"  # SMART, I/O errors, capacity short of the legal minimum
    STORAGE = "storage"  # stored footage found damaged (the scrub, a reader) on the hot disk or a tier
    DEGRADATION = "degradation"  # the picture slowly getting worse (dirt, fog, a failing IR light)
    INSPECTION = "inspection"  # a routine inspection overdue, or a fault found in one
    OTHER = "other"  # opened by hand


PICTURE_KINDS = frozenset(
    {
        TicketKind.FROZEN,
        TicketKind.BLACK,
        TicketKind.OVEREXPOSED,
        TicketKind.BLURRED,
        TicketKind.COVERED,
        TicketKind.MOVED,
    }
)
STREAM_KINDS = frozenset({TicketKind.LOW_FPS, TicketKind.LOW_BITRATE})
FAULT_KINDS = frozenset({TicketKind.OFFLINE, *PICTURE_KINDS, *STREAM_KINDS})  # opened and verified from faults


class WorkDone(StrEnum):
    CLEANED = "cleaned"
    REFOCUSED = "refocused"
    CABLING = "cabling"
    POWER = "power"
    FIRMWARE = "firmware"
    RECONFIGURED = "reconfigured"
    REPLACED = "replaced"
    REBOOTED = "rebooted"
    NONE_NEEDED = "none_needed"  # it recovered by itself
    OTHER = "other"


class TicketSource(StrEnum):
    FAULT = "fault"  # opened by Vigil from a fault that persisted
    MANUAL = "manual"
    ALARM = "alarm"
    INCIDENT = "incident"
    INSPECTION = "inspection"
    DEGRADATION = "degradation"
    DISK = "disk"


class TicketChange(StrEnum):
    """What happened to a ticket (its history, notifications' ``change``)."""

    OPENED = "opened"
    REOPENED = "reopened"
    SEEN_AGAIN = "seen_again"  # the fault came back while the ticket was still being worked
    CAMERA_ADDED = "camera_added"  # another camera behind the same equipment dropped
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    STARTED = "started"
    WAITING = "waiting"
    RESOLVED = "resolved"
    FAULT_CLEARED = "fault_cleared"
    VERIFIED = "verified"
    NOT_VERIFIED = "not_verified"
    CLOSED = "closed"
    EDITED = "edited"  # priority, work done, parts, time, the vendor's reference
    NOTE = "note"
    OVERDUE = "overdue"
    WINDOW = "window"  # a maintenance window planned from it


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """How soon a ticket of one priority must be answered (acknowledged or worked) and restored (resolved)."""

    respond_s: float
    restore_s: float


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    equipment_id: str  # a camera id, or the shared equipment (a switch) the outage is put down to
    kind: TicketKind
    title: str
    priority: int
    state: TicketState
    source: str  # TicketSource
    opened_us: int
    opened_by: str
    updated_us: int
    revision: int = 1
    cameras: tuple[str, ...] = ()  # the cameras affected (one, or those behind the shared equipment)
    source_ref: str = ""  # the alarm, incident, inspection or event it came from
    first_seen_us: int | None = None  # the fault's onset
    last_seen_us: int | None = None  # the latest time it was seen present
    fault_cleared_us: int | None = None  # the fault went away (None while present, or for work with no fault)
    respond_due_us: int | None = None
    restore_due_us: int | None = None
    responded_us: int | None = None  # the first act of a person on it
    acknowledged_by: str = ""
    assignee: str = ""  # a user name
    vendor: str = ""  # a vendor it is given to (their accounts see it)
    resolved_us: int | None = None
    resolved_by: str = ""
    verified_us: int | None = None
    verify_note: str = ""  # why it is not verified (yet)
    closed_us: int | None = None
    closed_by: str = ""
    work_done: tuple[str, ...] = ()  # WorkDone values
    parts: tuple[str, ...] = ()
    time_spent_min: int = 0
    vendor_ref: str = ""  # the vendor's own ticket number
    good_picture: str = ""  # relpath of the last good picture
    fault_picture: str = ""  # relpath of the faulty one
    reopened: int = 0
    overdue: tuple[str, ...] = ()  # deadlines already reported missed: respond, restore
    detail: str = ""  # what Vigil saw (the fault's description; a disk's SMART figures)

    @property
    def open(self) -> bool:
        return self.state in UNVERIFIED_STATES


@dataclass(frozen=True, slots=True)
class TicketHistoryEntry:
    ticket_id: int
    at_us: int
    actor: str
    change: str  # TicketChange
    detail: Mapping[str, object] = field(default_factory=dict)


def check_priority(priority: int) -> int:
    if priority not in PRIORITIES:
        raise InvalidRequest(f"priority: {priority!r} is not one of 1, 2, 3, 4")
    return priority


def check_text(name: str, text: str, limit: int = MAX_TEXT_CHARS, required: bool = False) -> str:
    value = text.strip()
    if required and not value:
        raise InvalidRequest(f"{name}: must not be empty")
    if len(value) > limit:
        raise InvalidRequest(f"{name}: at most {limit} characters")
    return value


def check_revision(ticket: Ticket, revision: int | None) -> None:
    """Conflict unless the person saw the ticket as it is (``revision`` None: a change that does not care)."""
    if revision is not None and revision != ticket.revision:
        raise Conflict(
            f"ticket {ticket.id} was changed meanwhile (revision {ticket.revision}, you saw {revision}); look again"
        )


def deadlines(opened_us: int, priority: int, levels: Mapping[int, ServiceLevel]) -> tuple[int | None, int | None]:
    """When a ticket opened at ``opened_us`` must be answered and restored."""
    level = levels.get(priority)
    if level is None:
        return None, None
    return opened_us + int(level.respond_s * 1e6), opened_us + int(level.restore_s * 1e6)


def overdue_now(ticket: Ticket, now_us: int) -> list[str]:
    """The deadlines this ticket has just missed (``respond``, ``restore``) that were not reported yet."""
    out = []
    if (
        ticket.respond_due_us is not None
        and ticket.responded_us is None
        and ticket.state in UNVERIFIED_STATES
        and now_us >= ticket.respond_due_us
        and "respond" not in ticket.overdue
    ):
        out.append("respond")
    restored = ticket.resolved_us is not None or ticket.state in DONE_STATES
    if (
        ticket.restore_due_us is not None
        and not restored
        and now_us >= ticket.restore_due_us
        and "restore" not in ticket.overdue
    ):
        out.append("restore")
    return out


def next_deadline_us(ticket: Ticket) -> int | None:
    """The next deadline of this ticket not met nor reported, if any."""
    due = []
    if ticket.respond_due_us is not None and ticket.responded_us is None and "respond" not in ticket.overdue:
        due.append(ticket.respond_due_us)
    if ticket.restore_due_us is not None and ticket.resolved_us is None and "restore" not in ticket.overdue:
        due.append(ticket.restore_due_us)
    return min(due) if due and ticket.state in UNVERIFIED_STATES else None


# --- a person's acts -----------------------------------------------------------------------------------------
def _bump(ticket: Ticket, now_us: int, by: str, **values: object) -> Ticket:
    responded = ticket.responded_us if ticket.responded_us is not None else now_us
    return replace(ticket, revision=ticket.revision + 1, updated_us=now_us, responded_us=responded, **values)  # type: ignore[arg-type]


def _who(by: str) -> str:
    return check_text("by", by, 100, required=True)


def _must_be_unverified(ticket: Ticket, what: str) -> None:
    if ticket.state not in UNVERIFIED_STATES:
        raise Conflict(f"ticket {ticket.id} is {ticket.state.value}; it cannot be {what} (reopen it first)")


def acknowledge(ticket: Ticket, by: str, now_us: int) -> Ticket:
    if ticket.state is not TicketState.OPEN:
        raise Conflict(f"ticket {ticket.id} is {ticket.state.value}, not open: acknowledged already")
    return _bump(ticket, now_us, by, state=TicketState.ACKNOWLEDGED, acknowledged_by=_who(by))


def assign(ticket: Ticket, assignee: str, vendor: str, by: str, now_us: int) -> Ticket:
    """Give the ticket to a person and/or a vendor; a new ticket is acknowledged by it."""
    _must_be_unverified(ticket, "assigned")
    assignee = check_text("assignee", assignee, 64)
    vendor = check_text("vendor", vendor, 200)
    if not assignee and not vendor:
        raise InvalidRequest("assignee: name a person or a vendor")
    state = TicketState.ACKNOWLEDGED if ticket.state is TicketState.OPEN else ticket.state
    acked = ticket.acknowledged_by or _who(by)
    return _bump(ticket, now_us, by, state=state, assignee=assignee, vendor=vendor, acknowledged_by=acked)


def start(ticket: Ticket, by: str, now_us: int) -> Ticket:
    if ticket.state not in WORKING_STATES:
        raise Conflict(f"ticket {ticket.id} is {ticket.state.value}; work cannot start on it")
    if ticket.state is TicketState.IN_PROGRESS:
        raise Conflict(f"ticket {ticket.id} is in progress already")
    acked = ticket.acknowledged_by or _who(by)
    return _bump(ticket, now_us, by, state=TicketState.IN_PROGRESS, acknowledged_by=acked)


def wait(ticket: Ticket, by: str, now_us: int) -> Ticket:
    if ticket.state not in WORKING_STATES:
        raise Conflict(f"ticket {ticket.id} is {ticket.state.value}; it cannot wait for parts")
    if ticket.state is TicketState.WAITING:
        raise Conflict(f"ticket {ticket.id} is waiting already")
    acked = ticket.acknowledged_by or _who(by)
    return _bump(ticket, now_us, by, state=TicketState.WAITING, acknowledged_by=acked)


def resolve(
    ticket: Ticket,
    by: str,
    now_us: int,
    work_done: Sequence[str] = (),
    parts: Sequence[str] = (),
    time_spent_min: int | None = None,
) -> Ticket:
    """A person says it is fixed: Vigil now verifies it (:func:`verification`)."""
    if ticket.state not in WORKING_STATES:
        raise Conflict(f"ticket {ticket.id} is {ticket.state.value}; only a ticket being worked can be resolved")
    work = check_work(work_done) or ticket.work_done
    if not work:
        raise InvalidRequest(f"work_done: say what was done ({', '.join(WorkDone)})")
    return _bump(
        ticket,
        now_us,
        by,
        state=TicketState.RESOLVED,
        resolved_us=now_us,
        resolved_by=_who(by),
        acknowledged_by=ticket.acknowledged_by or by.strip(),
        work_done=work,
        parts=check_parts(parts) if parts else ticket.parts,
        time_spent_min=check_minutes(time_spent_min) if time_spent_min is not None else ticket.time_spent_min,
        verify_note="",
    )


def close(ticket: Ticket, by: str, now_us: int) -> Ticket:
    """Only a verified ticket closes (closing never rests on a person's word alone)."""
    if ticket.state is TicketState.CLOSED:
        raise Conflict(f"ticket {ticket.id} is closed already")
    if ticket.state is not TicketState.VERIFIED:
        raise Conflict(
            f"ticket {ticket.id} is {ticket.state.value}: only a verified ticket can be closed"
            + (f" ({ticket.verify_note})" if ticket.verify_note else "")
        )
    return replace(
        ticket,
        state=TicketState.CLOSED,
        closed_us=now_us,
        closed_by=_who(by),
        revision=ticket.revision + 1,
        updated_us=now_us,
    )


def reopen_by_hand(ticket: Ticket, by: str, now_us: int) -> Ticket:
    """A person reopens a resolved, verified or closed ticket: work goes on."""
    if ticket.state in WORKING_STATES:
        raise Conflict(f"ticket {ticket.id} is still being worked ({ticket.state.value})")
    return _bump(
        ticket,
        now_us,
        by,
        state=TicketState.IN_PROGRESS,
        resolved_us=None,
        resolved_by="",
        verified_us=None,
        closed_us=None,
        closed_by="",
        reopened=ticket.reopened + 1,
    )


def edit(
    ticket: Ticket,
    by: str,
    now_us: int,
    *,
    priority: int | None = None,
    work_done: Sequence[str] | None = None,
    parts: Sequence[str] | None = None,
    time_spent_min: int | None = None,
    vendor_ref: str | None = None,
    levels: Mapping[int, ServiceLevel] | None = None,
) -> Ticket:
    """Change the ticket's details. A new priority moves the deadlines not met yet."""
    if ticket.state is TicketState.CLOSED:
        raise Conflict(f"ticket {ticket.id} is closed; reopen it to change it")
    values: dict[str, object] = {}
    if priority is not None and priority != ticket.priority:
        values["priority"] = check_priority(priority)
        if levels is not None:
            respond, restore = deadlines(ticket.opened_us, priority, levels)
            values["respond_due_us"], values["restore_due_us"] = respond, restore
            values["overdue"] = ()
    if work_done is not None:
        values["work_done"] = check_work(work_done)
    if parts is not None:
        values["parts"] = check_parts(parts)
    if time_spent_min is not None:
        values["time_spent_min"] = check_minutes(time_spent_min)
    if vendor_ref is not None:
        values["vendor_ref"] = check_text("vendor_ref", vendor_ref, 100)
    if not values:
        raise InvalidRequest("nothing to change")
    _who(by)
    return _bump(ticket, now_us, by, **values)


def check_work(items: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for item in items:
        if item not in set(WorkDone):
            raise InvalidRequest(f"work_done: {item!r} is not one of {', '.join(WorkDone)}")
        if item not in out:
            out.append(item)
    return tuple(out)


def check_parts(items: Iterable[str]) -> tuple[str, ...]:
    out = tuple(check_text("parts", p, 200, required=True) for p in items)
    if len(out) > MAX_PARTS:
        raise InvalidRequest(f"parts: at most {MAX_PARTS}")
    return out


def check_minutes(minutes: int) -> int:
    if not 0 <= minutes <= 100_000:
        raise InvalidRequest("time_spent_min: must be between 0 and 100000 minutes")
    return minutes


# --- Vigil's own acts ----------------------------------------------------------------------------------------
def seen_again(ticket: Ticket, onset_us: int, now_us: int) -> Ticket:
    """The fault is present (again) while the ticket is being worked: it is not cleared."""
    return replace(
        ticket,
        first_seen_us=ticket.first_seen_us if ticket.first_seen_us is not None else onset_us,
        last_seen_us=max(ticket.last_seen_us or 0, now_us),
        fault_cleared_us=None,
        revision=ticket.revision + 1,
        updated_us=now_us,
    )


def reopened(ticket: Ticket, onset_us: int, now_us: int, levels: Mapping[int, ServiceLevel]) -> Ticket:
    """The same fault came back within the reopen window: the ticket is open again, with fresh deadlines."""
    respond, restore = deadlines(now_us, ticket.priority, levels)
    return replace(
        ticket,
        state=TicketState.OPEN,
        first_seen_us=onset_us,
        last_seen_us=now_us,
        fault_cleared_us=None,
        resolved_us=None,
        resolved_by="",
        verified_us=None,
        verify_note="",
        closed_us=None,
        closed_by="",
        responded_us=None,
        respond_due_us=respond,
        restore_due_us=restore,
        overdue=(),
        reopened=ticket.reopened + 1,
        revision=ticket.revision + 1,
        updated_us=now_us,
    )


def fault_cleared(ticket: Ticket, at_us: int, now_us: int, auto_resolve: bool) -> Ticket:
    """The fault went away. A ticket nobody has resolved yet is resolved on Vigil's behalf (when ``auto_resolve``),
    so that it is verified like any repair."""
    values: dict[str, object] = {"fault_cleared_us": at_us, "revision": ticket.revision + 1, "updated_us": now_us}
    if auto_resolve and ticket.state in WORKING_STATES:
        values |= {
            "state": TicketState.RESOLVED,
            "resolved_us": at_us,
            "resolved_by": "system",
            "work_done": ticket.work_done or (WorkDone.NONE_NEEDED.value,),
        }
    return replace(ticket, **values)  # type: ignore[arg-type]


def verified(ticket: Ticket, now_us: int) -> Ticket:
    return replace(
        ticket,
        state=TicketState.VERIFIED,
        verified_us=now_us,
        verify_note="",
        revision=ticket.revision + 1,
        updated_us=now_us,
    )


def not_verified(ticket: Ticket, reason: str, now_us: int) -> Ticket:
    """The resolve did not hold: back to work, with the reason on the ticket."""
    return replace(
        ticket,
        state=TicketState.IN_PROGRESS,
        resolved_us=None,
        resolved_by="",
        verify_note=reason,
        revision=ticket.revision + 1,
        updated_us=now_us,
    )


def auto_closed(ticket: Ticket, now_us: int) -> Ticket:
    return replace(
        ticket,
        state=TicketState.CLOSED,
        closed_us=now_us,
        closed_by="system",
        revision=ticket.revision + 1,
        updated_us=now_us,
    )


def marked_overdue(ticket: Ticket, which: Sequence[str], now_us: int) -> Ticket:
    return replace(ticket, overdue=(*ticket.overdue, *which), revision=ticket.revision + 1, updated_us=now_us)


# --- fault episodes --------------------------------------------------------------------------------------------
def episode_ticket(
    tickets: Iterable[Ticket], equipment_id: str, kind: TicketKind, now_us: int, reopen_window_us: int
) -> tuple[str, Ticket | None]:
    """What a fault on ``equipment_id`` of ``kind`` that has persisted does: ``("attach", t)`` to the ticket still
    being worked, ``("reopen", t)`` the one verified or closed within the reopen window, or ``("new", None)``."""
    latest: Ticket | None = None
    for t in tickets:
        if t.equipment_id != equipment_id or t.kind is not kind:
            continue
        if latest is None or t.id > latest.id:
            latest = t
    if latest is None:
        return "new", None
    if latest.state in UNVERIFIED_STATES:
        return "attach", latest
    done_us = latest.verified_us or latest.closed_us or latest.updated_us
    if now_us - done_us <= reopen_window_us:
        return "reopen", latest
    return "new", None


# --- root cause across cameras -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Outage:
    camera_id: str
    since_us: int


@dataclass(frozen=True, slots=True)
class SharedCause:
    """Cameras that dropped together, put down to the equipment they all depend on."""

    equipment_id: str
    cameras: tuple[str, ...]
    since_us: int  # the first of them


def shared_causes(
    outages: Sequence[Outage],
    graph: Graph,
    cameras: Iterable[str],
    window_us: int,
    min_share: float = 0.5,
) -> list[SharedCause]:
    """Group outages that began within ``window_us`` of each other by the shared equipment they depend on.

    A piece of equipment (not a camera) is the likely cause when at least two of the cameras that depend on it
    (directly or through others) dropped within the window and they are at least ``min_share`` of its monitored
    cameras (``cameras``: those recorded now). Of several candidates the one explaining the most outages wins, then
    the most specific (fewest monitored cameras below it: the port group before the switch before the UPS). Each
    outage is given to at most one cause; outages explained by none are left out (they get their own tickets)."""
    monitored = set(cameras)
    below: dict[str, set[str]] = {}
    for node in graph:
        if node in monitored:
            continue
        under = downstream(graph, node) & monitored
        if len(under) >= 2:
            below[node] = under
    left = sorted(outages, key=lambda o: (o.since_us, o.camera_id))
    out: list[SharedCause] = []
    while left:
        best: tuple[int, int, str, list[Outage]] | None = None
        for node, under in below.items():
            hits = [o for o in left if o.camera_id in under]
            if len(hits) < 2:
                continue
            # the largest run of these outages that began within the window of its first
            run = _densest_run(hits, window_us)
            if len(run) < 2 or len(run) < min_share * len(under):
                continue
            key = (len(run), -len(under), node)
            if best is None or key > best[:3]:
                best = (len(run), -len(under), node, run)
        if best is None:
            break
        run = best[3]
        out.append(SharedCause(best[2], tuple(sorted(o.camera_id for o in run)), min(o.since_us for o in run)))
        taken = {o.camera_id for o in run}
        left = [o for o in left if o.camera_id not in taken]
    return out


def _densest_run(outages: Sequence[Outage], window_us: int) -> list[Outage]:
    ordered = sorted(outages, key=lambda o: o.since_us)
    best: list[Outage] = []
    for i, first in enumerate(ordered):
        run = [o for o in ordered[i:] if o.since_us - first.since_us <= window_us]
        if len(run) > len(best):
            best = run
    return best


# --- verification --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class FaultState:
    """What the catalog says of a ticket's fault now: present, or gone since ``healthy_since_us``."""

    present: bool
    healthy_since_us: int | None  # the end of the fault's last appearance (None: never seen, or present)
    description: str = ""  # what is wrong when present, in words


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: str  # "verified", "waiting" (not long enough yet), "failed" (the fault is still there)
    reason: str = ""
    until_us: int | None = None  # waiting: when it will be verified if it stays healthy


def verification(ticket: Ticket, fault: FaultState, now_us: int, verify_us: int, grace_us: int) -> Verdict:
    """Is a resolved ticket's repair real? The fault must be gone and the picture healthy for ``verify_us`` since
    the later of the resolve and the fault's last appearance. A fault still present ``grace_us`` after the resolve
    (a camera may take a minute to reboot) fails the verification, with the reason."""
    resolved_us = ticket.resolved_us if ticket.resolved_us is not None else ticket.updated_us
    if fault.present:
        if now_us - resolved_us >= grace_us:
            return Verdict("failed", f"not verified: {fault.description or 'the fault is still there'}")
        return Verdict("waiting", f"the fault is still there ({fault.description})" if fault.description else "")
    since = max(resolved_us, fault.healthy_since_us or resolved_us)
    until = since + verify_us
    if now_us >= until:
        return Verdict("verified")
    return Verdict("waiting", "checking that the picture stays healthy", until)


def order_queue(tickets: Iterable[Ticket]) -> list[Ticket]:
    """The maintenance queue: the nearest deadline first (tickets without one last), then priority, then age."""
    far = 2**62

    def key(t: Ticket) -> tuple[int, int, int, int]:
        due = t.restore_due_us if t.resolved_us is None and t.restore_due_us is not None else far
        if t.responded_us is None and t.respond_due_us is not None:
            due = min(due, t.respond_due_us)
        return (due, t.priority, t.opened_us, t.id)

    return sorted(tickets, key=key)


KIND_WORDS = {
    TicketKind.OFFLINE: "offline",
    TicketKind.FROZEN: "picture frozen",
    TicketKind.BLACK: "picture black",
    TicketKind.OVEREXPOSED: "picture washed out",
    TicketKind.BLURRED: "picture blurred",
    TicketKind.COVERED: "lens covered",
    TicketKind.MOVED: "camera moved",
    TicketKind.LOW_FPS: "low frame rate",
    TicketKind.LOW_BITRATE: "low bitrate",
    TicketKind.RESTART_LOOP: "process restarting in a loop",
    TicketKind.DISK: "disk problem",
    TicketKind.STORAGE: "stored footage damaged",
    TicketKind.DEGRADATION: "picture degrading",
    TicketKind.INSPECTION: "inspection",
    TicketKind.OTHER: "maintenance",
}


def ticket_title(kind: TicketKind, equipment_name: str, cameras: Sequence[str] = ()) -> str:
    """``Gate: offline``; a shared cause names how many cameras it took down."""
    words = KIND_WORDS[kind]
    if len(cameras) > 1:
        return f"{equipment_name}: {len(cameras)} cameras {words}"
    return f"{equipment_name}: {words}"


def ticket_fields(ticket: Ticket) -> dict[str, object]:
    """The ticket as plain data (notifications, the API's base)."""
    return {
        "id": ticket.id,
        "equipment_id": ticket.equipment_id,
        "kind": ticket.kind.value,
        "title": ticket.title,
        "priority": ticket.priority,
        "state": ticket.state.value,
        "cameras": list(ticket.cameras),
        "source": ticket.source,
        "source_ref": ticket.source_ref,
        "opened_us": ticket.opened_us,
        "first_seen_us": ticket.first_seen_us,
        "last_seen_us": ticket.last_seen_us,
        "fault_cleared_us": ticket.fault_cleared_us,
        "respond_due_us": ticket.respond_due_us,
        "restore_due_us": ticket.restore_due_us,
        "assignee": ticket.assignee,
        "vendor": ticket.vendor,
        "resolved_us": ticket.resolved_us,
        "verified_us": ticket.verified_us,
        "closed_us": ticket.closed_us,
        "verify_note": ticket.verify_note,
        "reopened": ticket.reopened,
        "revision": ticket.revision,
    }


def ticket_body(ticket: Ticket, change: str, detail: str = "") -> dict[str, object]:
    """A notification's content about a ticket change: a title and text (e-mail), the change, the ticket."""
    what = {
        TicketChange.OPENED: "opened",
        TicketChange.REOPENED: "reopened (the fault came back)",
        TicketChange.OVERDUE: "overdue",
        TicketChange.VERIFIED: "verified: the repair held",
        TicketChange.NOT_VERIFIED: "not verified: the fault is still there",
        TicketChange.RESOLVED: "resolved; being verified",
        TicketChange.CLOSED: "closed",
        TicketChange.ASSIGNED: f"assigned to {ticket.assignee or ticket.vendor}",
    }.get(TicketChange(change) if change in set(TicketChange) else TicketChange.EDITED, change)
    text = f"Ticket {ticket.id} (P{ticket.priority}) {what}." + (f" {detail}" if detail else "")
    return {
        "title": f"Ticket {ticket.id} {change}: {ticket.title}",
        "text": text,
        "change": change,
        "ticket": ticket_fields(ticket),
    }
