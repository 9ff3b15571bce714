"""Routine inspections as data: which cameras a schedule covers, when each inspection is due, what an answer is.
Pure: no I/O, no clock reads.

A schedule (``maintenance.inspections[]``) names a checklist, the cameras it covers (by id or site; none: all) and how
often (``every_days``). Each covered camera always has one inspection *due*; doing it records the answers (each item
ok or not, with a note), the camera's picture and who, and makes the next one due ``every_days`` later. An
inspection still not done ``grace_days`` after it fell due opens a ticket; an item found not ok opens one too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from vigil.domain.errors import InvalidRequest

DAY_US = 86_400 * 1_000_000


class InspectionState(StrEnum):
    DUE = "due"
    DONE = "done"
    DROPPED = "dropped"  # the schedule no longer covers the camera


@dataclass(frozen=True, slots=True)
class Schedule:
    name: str
    items: tuple[str, ...]
    every_days: float
    grace_days: float
    cameras: frozenset[str] = frozenset()
    sites: frozenset[str] = frozenset()

    def covers(self, camera_id: str, site: str) -> bool:
        if not self.cameras and not self.sites:
            return True
        return camera_id in self.cameras or site in self.sites


@dataclass(frozen=True, slots=True)
class Answer:
    item: str
    ok: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class Inspection:
    id: int
    name: str
    camera_id: str
    due_us: int
    state: InspectionState
    done_us: int | None = None
    done_by: str = ""
    answers: tuple[Answer, ...] = ()
    picture: str = ""
    ticket_id: int | None = None

    def overdue(self, now_us: int, grace_days: float) -> bool:
        return self.state is InspectionState.DUE and now_us >= self.due_us + int(grace_days * DAY_US)


def first_due_us(now_us: int, every_days: float) -> int:
    """A camera newly covered by a schedule is due one period from now."""
    return now_us + int(every_days * DAY_US)


def next_due_us(done_us: int, every_days: float) -> int:
    return done_us + int(every_days * DAY_US)


def check_answers(items: Sequence[str], answers: Sequence[Mapping[str, object]]) -> tuple[Answer, ...]:
    """Every item of the checklist answered once, ok or not (a note required when not): InvalidRequest otherwise."""
    given: dict[str, Answer] = {}
    for a in answers:
        item, ok, note = str(a.get("item", "")), a.get("ok"), str(a.get("note", "") or "").strip()
        if item not in items:
            raise InvalidRequest(f"answers: {item!r} is not an item of this checklist ({', '.join(items)})")
        if item in given:
            raise InvalidRequest(f"answers: {item!r} is answered twice")
        if not isinstance(ok, bool):
            raise InvalidRequest(f"answers: {item!r}: ok must be true or false")
        if not ok and not note:
            raise InvalidRequest(f"answers: {item!r} is not ok: say what is wrong (note)")
        if len(note) > 2000:
            raise InvalidRequest(f"answers: {item!r}: the note has at most 2000 characters")
        given[item] = Answer(item, ok, note)
    missing = [i for i in items if i not in given]
    if missing:
        raise InvalidRequest(f"answers: {missing[0]!r} is not answered")
    return tuple(given[i] for i in items)
