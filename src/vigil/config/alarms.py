"""``alarms`` in ``vigil.yaml``: which events become alarms (rules with a priority and a routing), how long an
alarm may wait for its acknowledgement before it escalates and to whom, duplicate folding, recurring maintenance
windows, and where the emergency plans are kept. Names of channels and cameras are checked against the rest of the
configuration by :class:`vigil.config.models.Config`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vigil.domain.access import Role
from vigil.domain.alarms import PRIORITIES, AlarmRule, EscalationPolicy, EscalationStep, MaintenanceWindow, Recipients
from vigil.domain.notifications import KNOWN_EVENT_TYPES
from vigil.domain.rules import Schedule

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"
DEFAULT_DEADLINES_S = {1: 60.0, 2: 300.0, 3: 900.0, 4: 3600.0}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArmedHours(Strict):
    days: list[Day] = Field(default_factory=lambda: list(DAYS), description="Days (a night belongs to its first day).")
    start: str = Field(default="00:00", pattern=_HHMM, description="From (local time, HH:MM).")
    end: str = Field(default="24:00", pattern=_HHMM, description="Until (before start: past midnight).")

    def schedule(self) -> Schedule:
        return Schedule(frozenset(DAYS.index(d) for d in self.days), _minutes(self.start), _minutes(self.end))


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


class RoutingConfig(Strict):
    channels: list[str] = Field(
        default_factory=list, description="Notification channels (names from notifications.channels) to send to."
    )
    users: list[str] = Field(default_factory=list, description="People (user names) to notify in the console.")
    roles: list[str] = Field(default_factory=list, description="Roles whose members are notified (e.g. operator).")

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - {r.value for r in Role})
        if unknown:
            raise ValueError(f"unknown role {unknown[0]!r} (roles: {', '.join(r.value for r in Role)})")
        return value

    def recipients(self) -> Recipients:
        return Recipients(tuple(self.channels), tuple(self.users), tuple(self.roles))


class AlarmRuleConfig(Strict):
    name: str = Field(min_length=1, max_length=100, description="The rule's name, shown with its alarms.")
    types: list[str] = Field(
        default_factory=list, description="Event types that raise it (e.g. zone_enter, camera_offline); empty: all."
    )
    cameras: list[str] = Field(default_factory=list, description="Camera ids; empty: every camera.")
    sites: list[str] = Field(default_factory=list, description="Camera sites; empty: every site.")
    zones: list[str] = Field(default_factory=list, description="Zone or line names; empty: anywhere.")
    labels: list[str] = Field(default_factory=list, description="Object labels, any of; empty: any.")
    schedule: list[ArmedHours] = Field(default_factory=list, description="Armed hours; empty: always armed.")
    priority: int = Field(default=2, ge=1, le=4, description="1 (most urgent) to 4: orders the queue, sets deadlines.")
    routing: RoutingConfig = Field(default_factory=RoutingConfig, description="Who is notified, through what.")

    @field_validator("types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - KNOWN_EVENT_TYPES)
        if unknown:
            raise ValueError(f"unknown event type {unknown[0]!r} (known: {', '.join(sorted(KNOWN_EVENT_TYPES))})")
        return value

    def rule(self) -> AlarmRule:
        return AlarmRule(
            name=self.name,
            priority=self.priority,
            types=frozenset(self.types),
            cameras=frozenset(self.cameras),
            sites=frozenset(self.sites),
            zones=frozenset(self.zones),
            labels=frozenset(label.lower() for label in self.labels),
            schedules=tuple(a.schedule() for a in self.schedule),
            recipients=self.routing.recipients(),
        )


class EscalationStepConfig(RoutingConfig):
    name: str = Field(min_length=1, max_length=100, description="What this step is (e.g. next contact, supervisor).")


class EscalationConfig(Strict):
    deadlines_s: dict[int, float] = Field(
        default_factory=lambda: dict(DEFAULT_DEADLINES_S),
        description="Per priority (1-4): seconds an alarm may wait for acknowledgement before the next step.",
    )
    steps: list[EscalationStepConfig] = Field(
        default_factory=list,
        description="Who is told, in order, each time a deadline passes unacknowledged (next contact, supervisor).",
    )

    @field_validator("deadlines_s")
    @classmethod
    def _deadlines(cls, value: dict[int, float]) -> dict[int, float]:
        for priority, seconds in value.items():
            if priority not in PRIORITIES:
                raise ValueError(f"priority {priority} is not one of 1, 2, 3, 4")
            if seconds <= 0:
                raise ValueError(f"priority {priority}: the deadline must be more than 0 seconds")
        return {**DEFAULT_DEADLINES_S, **value}

    def policy(self) -> EscalationPolicy:
        steps = tuple(EscalationStep(s.name, s.recipients()) for s in self.steps)
        return EscalationPolicy(dict(self.deadlines_s), steps)


class MaintenanceConfig(Strict):
    name: str = Field(min_length=1, max_length=100, description="What the window is for (e.g. Weekly cleaning).")
    cameras: list[str] = Field(default_factory=list, description="Camera ids whose alarms it suppresses; empty: all.")
    schedule: list[ArmedHours] = Field(min_length=1, description="When it recurs (local time).")

    def window(self) -> MaintenanceWindow:
        return MaintenanceWindow(self.name, frozenset(self.cameras), tuple(a.schedule() for a in self.schedule))


class AlarmsConfig(Strict):
    rules: list[AlarmRuleConfig] = Field(default_factory=list, description="Which events become alarms.")
    escalation: EscalationConfig = Field(
        default_factory=EscalationConfig, description="Deadlines to acknowledge and who is told after them."
    )
    fold_window_s: float = Field(
        default=120.0,
        ge=0,
        le=86400,
        description="Events of the same rule on the same camera within this many seconds of an open alarm's latest "
        "event fold into it instead of raising another (0: every event raises its own alarm).",
    )
    maintenance: list[MaintenanceConfig] = Field(
        default_factory=list,
        description="Recurring maintenance windows that suppress alarms (the suppression is "
        "recorded); one-off ones are placed in the console.",
    )
    plans_dir: str = Field(
        default="plans",
        description="Folder of the emergency plans (one YAML file per incident type), beside "
        "vigil.yaml unless absolute; the built-in plans are used for types it has no file for.",
    )
    check_interval_s: float = Field(
        default=1.0, gt=0, le=60, description="How often deadlines are checked (at the latest)."
    )

    @model_validator(mode="after")
    def _names(self) -> AlarmsConfig:
        names = [r.name for r in self.rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"alarm rule name {twice[0]!r} is used twice")
        return self
