"""Incidents (cases) as data: what a case holds, its checklist ticked step by step, its notes (append-only:
a correction is a new note naming the one it corrects), its timeline and the three durations. Pure.

Durations, all from the incident's *start* (its earliest alarm, or its opening when it has none):

- to acknowledge: until the first acknowledgement of one of its alarms, or its opening by a person (opening a case
  is acknowledging it), whichever came first;
- to first action: until the first checklist step ticked or note written;
- to close: until it was closed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from vigil.domain.errors import Conflict, InvalidRequest
from vigil.domain.plans import INCIDENT_SEVERITIES, PlanStep

MAX_NOTE_CHARS = 10_000
MAX_TEXT_CHARS = 2000
TYPE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


class IncidentState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class StepStatus(StrEnum):
    DONE = "done"
    SKIPPED = "skipped"  # not needed this time (with a note saying why)


class ItemKind(StrEnum):
    ALARM = "alarm"
    EVENT = "event"
    EVIDENCE = "evidence"  # an evidence package exported for the incident


class IncidentChange(StrEnum):
    OPENED = "opened"
    LINKED = "linked"
    NOTE = "note"
    ASSIGNED = "assigned"
    STEP = "step"
    CLOSED = "closed"
    REOPENED = "reopened"


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    type: str
    title: str
    severity: str
    place: str
    state: IncidentState
    opened_by: str
    opened_us: int
    started_us: int  # its earliest alarm's time, or its opening
    acknowledged_us: int | None
    first_action_us: int | None
    closed_us: int | None
    closed_by: str | None
    outcome: str
    assigned: tuple[str, ...]
    plan_title: str  # "" when no plan was found for its type
    steps: tuple[PlanStep, ...]
    updated_us: int

    def durations_s(self) -> dict[str, float | None]:
        def since_start(at: int | None) -> float | None:
            return None if at is None else max(0, at - self.started_us) / 1e6

        return {
            "to_acknowledge_s": since_start(self.acknowledged_us),
            "to_first_action_s": since_start(self.first_action_us),
            "to_close_s": since_start(self.closed_us),
        }


@dataclass(frozen=True, slots=True)
class Note:
    id: int
    incident_id: int
    at_us: int
    author: str
    text: str
    corrects: int | None = None  # the note this one corrects


@dataclass(frozen=True, slots=True)
class StepTick:
    incident_id: int
    step: int  # index into the incident's steps, from 0
    status: str  # StepStatus
    by: str
    at_us: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class IncidentItem:
    incident_id: int
    kind: str  # ItemKind
    ref: str  # the alarm or event id, or the package id
    added_by: str
    added_us: int


@dataclass(frozen=True, slots=True)
class IncidentHistoryEntry:
    incident_id: int
    at_us: int
    actor: str
    change: str  # IncidentChange
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChecklistRow:
    index: int
    step: PlanStep
    tick: StepTick | None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at_us: int
    actor: str
    what: str  # e.g. "incident opened", "alarm 12 acknowledged", "event 40 line_cross", "note", "step 2 done"
    text: str = ""
    source: str = "incident"  # incident | alarm | event


# --- checks --------------------------------------------------------------------------------------------------
def check_incident(type_: str, title: str, severity: str, place: str) -> None:
    if not TYPE_PATTERN.match(type_):
        raise InvalidRequest(f"type: {type_!r} is not an incident type (lower-case letters, digits, - and _)")
    if not title.strip() or len(title) > MAX_TEXT_CHARS:
        raise InvalidRequest(f"title: required, at most {MAX_TEXT_CHARS} characters")
    if severity not in INCIDENT_SEVERITIES:
        raise InvalidRequest(f"severity: {severity!r} is not one of {', '.join(INCIDENT_SEVERITIES)}")
    if len(place) > MAX_TEXT_CHARS:
        raise InvalidRequest(f"place: at most {MAX_TEXT_CHARS} characters")


def check_note(text: str, corrects: int | None, existing: Iterable[Note]) -> str:
    """The note's text, trimmed; InvalidRequest when it is empty or too long, or corrects no note of this case."""
    text = text.strip()
    if not text:
        raise InvalidRequest("text: a note must say something")
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidRequest(f"text: at most {MAX_NOTE_CHARS} characters")
    if corrects is not None and corrects not in {n.id for n in existing}:
        raise InvalidRequest(f"corrects: this incident has no note {corrects}")
    return text


def check_tick(incident: Incident, ticks: Iterable[StepTick], step: int, status: str) -> None:
    if incident.state is IncidentState.CLOSED:
        raise Conflict(f"incident {incident.id} is closed")
    if not 0 <= step < len(incident.steps):
        raise InvalidRequest(f"step: incident {incident.id} has steps 0 to {len(incident.steps) - 1}")
    if status not in set(StepStatus):
        raise InvalidRequest(f"status: {status!r} is not one of {', '.join(StepStatus)}")
    done = next((t for t in ticks if t.step == step), None)
    if done is not None:
        raise Conflict(f"step {step + 1} was ticked already by {done.by} (write a note to correct it)")


def checklist(steps: Sequence[PlanStep], ticks: Iterable[StepTick]) -> list[ChecklistRow]:
    by_step = {t.step: t for t in ticks}
    return [ChecklistRow(k, step, by_step.get(k)) for k, step in enumerate(steps)]


def first_action(current: int | None, at_us: int) -> int:
    return at_us if current is None else min(current, at_us)


def ordered(entries: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """A timeline, oldest first (stable for entries at the same instant)."""
    return sorted(entries, key=lambda e: e.at_us)
