"""JSON shapes of alarms, their history and suppressions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from vigil.api.schemas import EventOut
from vigil.domain.alarms import MAX_TEXT_CHARS, Alarm, AlarmHistoryEntry, Suppression
from vigil.domain.timeutil import iso_from_us

Outcome = Literal["real", "false_alarm", "test", "duplicate"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AlarmOut(BaseModel):
    id: int
    rule: str
    priority: int = Field(description="1 (most urgent) to 4")
    camera_id: str | None
    site: str
    state: str = Field(description="new, acknowledged, assigned, resolved or suppressed")
    title: str
    text: str
    first_event_id: int
    last_event_id: int
    event_count: int = Field(description="Events folded into it (duplicates on its camera)")
    created: str
    created_us: int
    updated_us: int
    last_event_us: int
    escalation_level: int = Field(description="Escalation steps taken")
    next_escalation_us: int | None = Field(description="When the next step is due, while it waits")
    acknowledged_by: str | None
    acknowledged_us: int | None
    assigned_to: str | None
    assigned_by: str | None
    assigned_us: int | None
    resolved_by: str | None
    resolved_us: int | None
    outcome: str | None
    resolution_note: str
    suppressed_by: str | None = Field(description="What suppressed it (a maintenance window, a disarm)")
    incident_id: int | None
    notify: dict[str, list[str]] = Field(description="Who its rule notifies: channels, users, roles")

    @classmethod
    def of(cls, a: Alarm) -> AlarmOut:
        return cls(
            id=a.id,
            rule=a.rule,
            priority=a.priority,
            camera_id=a.camera_id,
            site=a.site,
            state=a.state.value,
            title=a.title,
            text=a.text,
            first_event_id=a.first_event_id,
            last_event_id=a.last_event_id,
            event_count=a.event_count,
            created=iso_from_us(a.created_us),
            created_us=a.created_us,
            updated_us=a.updated_us,
            last_event_us=a.last_event_us,
            escalation_level=a.escalation_level,
            next_escalation_us=a.next_escalation_us,
            acknowledged_by=a.acknowledged_by,
            acknowledged_us=a.acknowledged_us,
            assigned_to=a.assigned_to,
            assigned_by=a.assigned_by,
            assigned_us=a.assigned_us,
            resolved_by=a.resolved_by,
            resolved_us=a.resolved_us,
            outcome=a.outcome,
            resolution_note=a.resolution_note,
            suppressed_by=a.suppressed_by,
            incident_id=a.incident_id,
            notify=a.recipients.as_dict(),
        )


class AlarmChangeOut(BaseModel):
    at: str
    at_us: int
    actor: str
    change: str
    detail: dict[str, Any]

    @classmethod
    def of(cls, h: AlarmHistoryEntry) -> AlarmChangeOut:
        return cls(at=iso_from_us(h.at_us), at_us=h.at_us, actor=h.actor, change=h.change, detail=dict(h.detail))


class AlarmDetailOut(BaseModel):
    alarm: AlarmOut
    history: list[AlarmChangeOut]
    events: list[EventOut] = Field(description="Its events (the first 100)")


class AssignIn(Strict):
    to: str = Field(min_length=1, max_length=64, description="The user name of whoever takes it")


class ResolveIn(Strict):
    outcome: Outcome = Field(description="real, false_alarm, test (a test or drill) or duplicate")
    note: str = Field(default="", max_length=MAX_TEXT_CHARS)


class SuppressionIn(Strict):
    kind: Literal["maintenance", "disarm"]
    cameras: list[str] = Field(default_factory=list, max_length=1000, description="Camera ids; empty: every camera")
    start: str | int | None = Field(default=None, description="ISO 8601 or UTC microseconds; default now")
    end: str | int | None = Field(default=None, description="ISO 8601 or UTC microseconds; none: until lifted")
    reason: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class LiftIn(Strict):
    reason: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class SuppressionOut(BaseModel):
    id: int
    kind: str
    cameras: list[str]
    start: str
    start_us: int
    end: str | None
    end_us: int | None
    reason: str
    placed_by: str
    placed_us: int
    lifted_by: str | None
    lifted_us: int | None
    lift_reason: str | None

    @classmethod
    def of(cls, s: Suppression) -> SuppressionOut:
        return cls(
            id=s.id,
            kind=s.kind,
            cameras=list(s.cameras),
            start=iso_from_us(s.start_us),
            start_us=s.start_us,
            end=iso_from_us(s.end_us) if s.end_us is not None else None,
            end_us=s.end_us,
            reason=s.reason,
            placed_by=s.placed_by,
            placed_us=s.placed_us,
            lifted_by=s.lifted_by,
            lifted_us=s.lifted_us,
            lift_reason=s.lift_reason,
        )
