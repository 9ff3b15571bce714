"""Alarms as data: which events become alarms (:class:`AlarmRule`), an alarm's life cycle, duplicate folding,
escalation timing and suppression (maintenance windows, disarmed cameras). Pure: no I/O, no clock reads; every
function is given ``now``.

An alarm is an event that needs a person. Its life cycle::

    new --acknowledge--> acknowledged --assign--> assigned --resolve(outcome)--> resolved
     |  \\______________________assign__________/^          ^
     |   \\____________________________resolve____________/
     +-- suppressed (at birth: a maintenance window or a disarm covered its camera; recorded, nobody notified)

Each step records who and when. While an alarm is ``new`` it **escalates**: when it is not acknowledged within
its priority's deadline the next escalation step is notified (the next contact), after another deadline the one
after (a supervisor), and so on until the steps run out. Events of the same rule on the same camera within
``fold_window_us`` of the alarm's latest event **fold** into it (its count grows; nobody is notified again).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from vigil.domain.errors import Conflict, InvalidRequest
from vigil.domain.records import EventRecord
from vigil.domain.rules import Schedule

PRIORITIES = (1, 2, 3, 4)  # 1 is the most urgent
MAX_TEXT_CHARS = 2000


class AlarmState(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    SUPPRESSED = "suppressed"  # raised while its camera was in maintenance or disarmed: recorded, not notified


OPEN_STATES = frozenset({AlarmState.NEW, AlarmState.ACKNOWLEDGED, AlarmState.ASSIGNED})


class AlarmOutcome(StrEnum):
    """How a resolved alarm turned out."""

    REAL = "real"
    FALSE_ALARM = "false_alarm"
    TEST = "test"  # a test or a drill
    DUPLICATE = "duplicate"


class AlarmChange(StrEnum):
    """What happened to an alarm (its history, notifications' ``change`` and the live stream's)."""

    RAISED = "raised"
    FOLDED = "folded"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    ESCALATED = "escalated"
    SUPPRESSED = "suppressed"
    LINKED = "linked"  # added to an incident


@dataclass(frozen=True, slots=True)
class Recipients:
    """Who is told, and through which notification channels (names from ``notifications.channels``)."""

    channels: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[str]]:
        return {"channels": list(self.channels), "users": list(self.users), "roles": list(self.roles)}


@dataclass(frozen=True, slots=True)
class AlarmRule:
    """Which events become alarms. Empty sets match everything; all given conditions must hold; ``schedules``
    are the armed hours (empty: always armed)."""

    name: str
    priority: int
    types: frozenset[str] = frozenset()
    cameras: frozenset[str] = frozenset()
    sites: frozenset[str] = frozenset()
    zones: frozenset[str] = frozenset()
    labels: frozenset[str] = frozenset()
    schedules: tuple[Schedule, ...] = ()
    recipients: Recipients = field(default_factory=Recipients)

    def matches(self, event: EventRecord, site: str, local: datetime) -> bool:
        if self.types and event.type not in self.types:
            return False
        if self.cameras and event.camera_id not in self.cameras:
            return False
        if self.sites and site not in self.sites:
            return False
        if self.zones and event.zone not in self.zones:
            return False
        if self.labels and not self.labels.intersection(event.labels):
            return False
        return not self.schedules or any(s.armed(local) for s in self.schedules)


def matching_rule(rules: Sequence[AlarmRule], event: EventRecord, site: str, local: datetime) -> AlarmRule | None:
    """The most urgent rule the event matches (the first of those when several share a priority), or None."""
    found = [r for r in rules if r.matches(event, site, local)]
    return min(found, key=lambda r: r.priority) if found else None


# --- escalation ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EscalationStep:
    name: str  # e.g. "next contact", "supervisor"
    recipients: Recipients


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """How long an alarm of each priority may wait for its acknowledgement, and who is told, step by step, when
    it waits longer."""

    deadlines_s: Mapping[int, float]
    steps: tuple[EscalationStep, ...] = ()

    def deadline_us(self, priority: int) -> int:
        return int(self.deadlines_s[priority] * 1_000_000)


def escalation_due_us(created_us: int, level: int, priority: int, policy: EscalationPolicy) -> int | None:
    """When an unacknowledged alarm escalates to step ``level + 1`` (``level`` steps already taken): one deadline
    after the alarm was raised for the first step, another for each next; None when the steps have run out."""
    if level >= len(policy.steps):
        return None
    return created_us + policy.deadline_us(priority) * (level + 1)


def due_steps(alarm: Alarm, policy: EscalationPolicy, now_us: int) -> list[int]:
    """The escalation steps (indexes into ``policy.steps``) whose time has come for this alarm: none unless it is
    still ``new``; several when more than one deadline passed unseen (Vigil was down meanwhile)."""
    if alarm.state is not AlarmState.NEW:
        return []
    out: list[int] = []
    level = alarm.escalation_level
    while True:
        due = escalation_due_us(alarm.created_us, level, alarm.priority, policy)
        if due is None or due > now_us:
            return out
        out.append(level)
        level += 1


# --- suppression ---------------------------------------------------------------------------------------------
class SuppressionKind(StrEnum):
    MAINTENANCE = "maintenance"
    DISARM = "disarm"


@dataclass(frozen=True, slots=True)
class Suppression:
    """Alarms of some cameras (all, when ``cameras`` is empty) suppressed from ``start_us`` until ``end_us`` (None:
    until lifted), placed at run time by a person."""

    id: int
    kind: str  # SuppressionKind
    cameras: tuple[str, ...]
    start_us: int
    end_us: int | None
    reason: str
    placed_by: str
    placed_us: int
    lifted_by: str | None = None
    lifted_us: int | None = None
    lift_reason: str | None = None
    ticket_id: int | None = None  # a maintenance window planned from this ticket

    def covers(self, camera_id: str | None, at_us: int) -> bool:
        if self.cameras and camera_id not in self.cameras:
            return False
        if self.lifted_us is not None and at_us >= self.lifted_us:
            return False
        return self.start_us <= at_us and (self.end_us is None or at_us < self.end_us)

    def describe(self) -> str:
        return f"{self.kind} #{self.id} by {self.placed_by}: {self.reason}"


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """A recurring maintenance window from the configuration (``alarms.maintenance``)."""

    name: str
    cameras: frozenset[str]
    schedules: tuple[Schedule, ...]

    def covers(self, camera_id: str | None, local: datetime) -> bool:
        if self.cameras and camera_id not in self.cameras:
            return False
        return any(s.armed(local) for s in self.schedules)


def suppressed_by(
    suppressions: Iterable[Suppression],
    windows: Iterable[MaintenanceWindow],
    camera_id: str | None,
    at_us: int,
    local: datetime,
) -> str | None:
    """Why an alarm on this camera at this time is suppressed (what suppresses it, in words), or None."""
    for s in suppressions:
        if s.covers(camera_id, at_us):
            return s.describe()
    for w in windows:
        if w.covers(camera_id, local):
            return f"maintenance window '{w.name}'"
    return None


def check_suppression(kind: str, cameras: Sequence[str], start_us: int, end_us: int | None, reason: str) -> None:
    """InvalidRequest naming what is wrong with a suppression to place."""
    if kind not in set(SuppressionKind):
        raise InvalidRequest(f"kind: {kind!r} is not one of {', '.join(SuppressionKind)}")
    if end_us is not None and end_us <= start_us:
        raise InvalidRequest("end: must be after start")
    if not reason.strip():
        raise InvalidRequest("reason: required (it is written to the audit log)")
    if len(reason) > MAX_TEXT_CHARS:
        raise InvalidRequest(f"reason: at most {MAX_TEXT_CHARS} characters")
    if any(not c.strip() for c in cameras):
        raise InvalidRequest("cameras: an empty camera id")


# --- the alarm and its life cycle ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Alarm:
    id: int
    rule: str
    priority: int
    camera_id: str | None
    site: str
    state: AlarmState
    title: str
    text: str
    first_event_id: int
    last_event_id: int
    event_count: int
    created_us: int
    updated_us: int
    last_event_us: int
    escalation_level: int = 0  # escalation steps taken
    next_escalation_us: int | None = None  # when the next step is due (None: acknowledged, or no steps left)
    acknowledged_by: str | None = None
    acknowledged_us: int | None = None
    assigned_to: str | None = None
    assigned_by: str | None = None
    assigned_us: int | None = None
    resolved_by: str | None = None
    resolved_us: int | None = None
    outcome: str | None = None  # AlarmOutcome
    resolution_note: str = ""
    suppressed_by: str | None = None
    incident_id: int | None = None
    recipients: Recipients = field(default_factory=Recipients)

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES


@dataclass(frozen=True, slots=True)
class AlarmHistoryEntry:
    alarm_id: int
    at_us: int
    actor: str
    change: str  # AlarmChange
    detail: Mapping[str, object] = field(default_factory=dict)


def _must_be_open(alarm: Alarm, what: str) -> None:
    if alarm.state is AlarmState.RESOLVED:
        raise Conflict(f"alarm {alarm.id} was resolved by {alarm.resolved_by}; it cannot be {what}")
    if alarm.state is AlarmState.SUPPRESSED:
        raise Conflict(f"alarm {alarm.id} was suppressed ({alarm.suppressed_by}); it cannot be {what}")


def _who(name: str, what: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidRequest(f"{what}: must not be empty")
    return name


def acknowledge(alarm: Alarm, by: str, now_us: int) -> Alarm:
    """``new`` -> ``acknowledged``: escalation stops. Conflict when someone acknowledged it already."""
    _must_be_open(alarm, "acknowledged")
    if alarm.state is not AlarmState.NEW:
        raise Conflict(f"alarm {alarm.id} was acknowledged already by {alarm.acknowledged_by}")
    return replace(
        alarm,
        state=AlarmState.ACKNOWLEDGED,
        acknowledged_by=_who(by, "by"),
        acknowledged_us=now_us,
        next_escalation_us=None,
        updated_us=now_us,
    )


def assign(alarm: Alarm, to: str, by: str, now_us: int) -> Alarm:
    """An open alarm given to a person (again, to another one); assigning a new alarm acknowledges it too."""
    _must_be_open(alarm, "assigned")
    by = _who(by, "by")
    acked = alarm.acknowledged_by is not None
    return replace(
        alarm,
        state=AlarmState.ASSIGNED,
        assigned_to=_who(to, "to"),
        assigned_by=by,
        assigned_us=now_us,
        acknowledged_by=alarm.acknowledged_by if acked else by,
        acknowledged_us=alarm.acknowledged_us if acked else now_us,
        next_escalation_us=None,
        updated_us=now_us,
    )


def resolve(alarm: Alarm, outcome: str, by: str, now_us: int, note: str = "") -> Alarm:
    """An open alarm resolved with its outcome (and a note); resolving a new alarm acknowledges it too."""
    _must_be_open(alarm, "resolved")
    if outcome not in set(AlarmOutcome):
        raise InvalidRequest(f"outcome: {outcome!r} is not one of {', '.join(AlarmOutcome)}")
    if len(note) > MAX_TEXT_CHARS:
        raise InvalidRequest(f"note: at most {MAX_TEXT_CHARS} characters")
    by = _who(by, "by")
    acked = alarm.acknowledged_by is not None
    return replace(
        alarm,
        state=AlarmState.RESOLVED,
        outcome=outcome,
        resolution_note=note.strip(),
        resolved_by=by,
        resolved_us=now_us,
        acknowledged_by=alarm.acknowledged_by if acked else by,
        acknowledged_us=alarm.acknowledged_us if acked else now_us,
        next_escalation_us=None,
        updated_us=now_us,
    )


def escalated(alarm: Alarm, step: int, policy: EscalationPolicy, now_us: int) -> Alarm:
    """The alarm after escalation step ``step`` was notified."""
    level = step + 1
    return replace(
        alarm,
        escalation_level=level,
        next_escalation_us=escalation_due_us(alarm.created_us, level, alarm.priority, policy),
        updated_us=now_us,
    )


def folded(alarm: Alarm, event: EventRecord, now_us: int) -> Alarm:
    """The alarm with one more event folded into it."""
    return replace(
        alarm,
        event_count=alarm.event_count + 1,
        last_event_id=event.id,
        last_event_us=max(alarm.last_event_us, event.start_us),
        updated_us=now_us,
    )


def fold_target(
    candidates: Iterable[Alarm], rule: str, camera_id: str | None, at_us: int, window_us: int
) -> Alarm | None:
    """The alarm an event of ``rule`` on ``camera_id`` at ``at_us`` folds into: the newest one of that rule and
    camera not resolved whose latest event is at most ``window_us`` before (a suppressed one too, so a burst in a
    maintenance window is one record); None when the event raises a new alarm. A window of 0 folds nothing."""
    if window_us <= 0:
        return None
    best: Alarm | None = None
    for a in candidates:
        if a.rule != rule or a.camera_id != camera_id or a.state is AlarmState.RESOLVED:
            continue
        if at_us - a.last_event_us > window_us:
            continue
        if best is None or a.id > best.id:
            best = a
    return best


def queue_order(alarms: Iterable[Alarm]) -> list[Alarm]:
    """The alarm queue: most urgent priority first, then oldest first."""
    return sorted(alarms, key=lambda a: (a.priority, a.created_us, a.id))
