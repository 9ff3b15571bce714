"""JSON shapes of incidents (with their checklist, notes and timeline) and emergency plans."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vigil.api.alarm_schemas import AlarmOut
from vigil.api.schemas import EventOut
from vigil.domain.evidence import MAX_TEXT_CHARS as EVIDENCE_TEXT_CHARS
from vigil.domain.incidents import MAX_NOTE_CHARS, MAX_TEXT_CHARS, ChecklistRow, Incident, Note, TimelineEntry
from vigil.domain.timeutil import iso_from_us
from vigil.usecases.incidents import IncidentView
from vigil.usecases.plans import PlanEntry

Severity = Literal["low", "medium", "high", "critical"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IncidentIn(Strict):
    type: str = Field(min_length=1, max_length=63, description="The incident type (its emergency plan's)")
    title: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    severity: Severity | None = Field(default=None, description="Default: the plan's")
    place: str = Field(default="", max_length=MAX_TEXT_CHARS)
    alarms: list[int] = Field(default_factory=list, max_length=500, description="Alarms it starts from")
    events: list[int] = Field(default_factory=list, max_length=500, description="Events it groups")


class LinkIn(Strict):
    alarms: list[int] = Field(default_factory=list, max_length=500)
    events: list[int] = Field(default_factory=list, max_length=500)


class NoteIn(Strict):
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)
    corrects: int | None = Field(default=None, description="The note this one corrects (notes are never edited)")


class PeopleIn(Strict):
    users: list[str] = Field(max_length=50, description="User names of the people on the case")


class TickIn(Strict):
    status: Literal["done", "skipped"] = "done"
    note: str = Field(default="", max_length=MAX_TEXT_CHARS)


class CloseIn(Strict):
    outcome: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="How it ended")


class ReopenIn(Strict):
    reason: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class IncidentEvidenceIn(Strict):
    reason: str = Field(min_length=1, max_length=EVIDENCE_TEXT_CHARS)
    recipient: str = Field(min_length=1, max_length=EVIDENCE_TEXT_CHARS)


class IncidentOut(BaseModel):
    id: int
    type: str
    title: str
    severity: str
    place: str
    state: str
    opened_by: str
    opened: str
    opened_us: int
    started_us: int
    acknowledged_us: int | None
    first_action_us: int | None
    closed_us: int | None
    closed_by: str | None
    outcome: str
    assigned: list[str]
    plan_title: str
    durations_s: dict[str, float | None] = Field(description="to_acknowledge_s, to_first_action_s, to_close_s")

    @classmethod
    def of(cls, i: Incident) -> IncidentOut:
        return cls(
            id=i.id,
            type=i.type,
            title=i.title,
            severity=i.severity,
            place=i.place,
            state=i.state.value,
            opened_by=i.opened_by,
            opened=iso_from_us(i.opened_us),
            opened_us=i.opened_us,
            started_us=i.started_us,
            acknowledged_us=i.acknowledged_us,
            first_action_us=i.first_action_us,
            closed_us=i.closed_us,
            closed_by=i.closed_by,
            outcome=i.outcome,
            assigned=list(i.assigned),
            plan_title=i.plan_title,
            durations_s=i.durations_s(),
        )


class NoteOut(BaseModel):
    id: int
    at_us: int
    author: str
    text: str
    corrects: int | None

    @classmethod
    def of(cls, n: Note) -> NoteOut:
        return cls(id=n.id, at_us=n.at_us, author=n.author, text=n.text, corrects=n.corrects)


class StepOut(BaseModel):
    index: int
    text: str
    who: str
    contacts: list[dict[str, str]]
    status: str = Field(description="open, done or skipped")
    by: str | None
    at_us: int | None
    note: str

    @classmethod
    def of(cls, row: ChecklistRow) -> StepOut:
        t = row.tick
        return cls(
            index=row.index,
            text=row.step.text,
            who=row.step.who,
            contacts=[c.as_dict() for c in row.step.contacts],
            status=t.status if t else "open",
            by=t.by if t else None,
            at_us=t.at_us if t else None,
            note=t.note if t else "",
        )


class TimelineOut(BaseModel):
    at_us: int
    actor: str
    what: str
    text: str
    source: str

    @classmethod
    def of(cls, t: TimelineEntry) -> TimelineOut:
        return cls(at_us=t.at_us, actor=t.actor, what=t.what, text=t.text, source=t.source)


class IncidentDetailOut(BaseModel):
    incident: IncidentOut
    cameras: list[str]
    alarms: list[AlarmOut]
    events: list[EventOut]
    notes: list[NoteOut]
    checklist: list[StepOut]
    evidence: list[str] = Field(description="Evidence packages exported for it")
    timeline: list[TimelineOut]

    @classmethod
    def of(cls, v: IncidentView) -> IncidentDetailOut:
        return cls(
            incident=IncidentOut.of(v.incident),
            cameras=v.cameras,
            alarms=[AlarmOut.of(a) for a in v.alarms],
            events=[EventOut.of(e) for e in v.events],
            notes=[NoteOut.of(n) for n in v.notes],
            checklist=[StepOut.of(r) for r in v.checklist],
            evidence=v.evidence,
            timeline=[TimelineOut.of(t) for t in v.timeline],
        )


class PlanOut(BaseModel):
    type: str
    title: str | None = Field(description="Null when the plan is not valid")
    severity: str | None
    built_in: bool = Field(description="Vigil's own plan (no file written for it yet)")
    valid: bool
    problem: str = Field(description="What is wrong with it, when it is not valid")
    text: str = Field(description="The plan as YAML")
    revision: str = Field(description="Pass it back when saving (a save over a changed file is refused)")
    steps: list[dict[str, Any]]

    @classmethod
    def of(cls, e: PlanEntry) -> PlanOut:
        return cls(
            type=e.type,
            title=e.plan.title if e.plan else None,
            severity=e.plan.severity if e.plan else None,
            built_in=e.built_in,
            valid=e.plan is not None,
            problem=e.problem,
            text=e.text,
            revision=e.revision,
            steps=[s.as_dict() for s in e.plan.steps] if e.plan else [],
        )


class PlanIn(Strict):
    text: str = Field(min_length=1, max_length=256 * 1024, description="The plan as YAML")
    revision: str = Field(max_length=64, description='The revision it was read at ("" for a built-in plan)')
    reason: str = Field(default="", max_length=MAX_TEXT_CHARS)
