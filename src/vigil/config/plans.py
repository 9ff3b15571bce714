"""Emergency plan files: one YAML document per incident type, validated like ``vigil.yaml`` (unknown keys refused
with their path) into :class:`vigil.domain.plans.EmergencyPlan`::

    type: intrusion
    title: Intrusion
    severity: high
    description: Someone is where nobody should be.
    steps:
      - text: Look at the cameras around the alarm and follow the person
        who: operator
      - text: Send the guard on duty
        who: operator
        contacts: [{name: Guard desk, phone: "+86 21 5555 0101"}]
"""

from __future__ import annotations

from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vigil.config.loader import describe_validation_error
from vigil.domain.errors import ConfigError
from vigil.domain.plans import Contact, EmergencyPlan, PlanStep

MAX_PLAN_BYTES = 256 * 1024


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactConfig(Strict):
    name: str = Field(min_length=1, max_length=200, description="Who to call.")
    phone: str = Field(default="", max_length=100, description="The number.")
    note: str = Field(default="", max_length=500, description="When or why.")


class StepConfig(Strict):
    text: str = Field(min_length=1, max_length=2000, description="What to do.")
    who: str = Field(default="", max_length=200, description="Who does it (a role or a person).")
    contacts: list[ContactConfig] = Field(default_factory=list, description="Whom to call for this step.")


class PlanConfig(Strict):
    type: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="The incident type it is for.")
    title: str = Field(min_length=1, max_length=200, description="The plan's name.")
    severity: Literal["low", "medium", "high", "critical"] = Field(
        default="high", description="The usual severity of such an incident."
    )
    description: str = Field(default="", max_length=2000, description="When the plan applies.")
    steps: list[StepConfig] = Field(min_length=1, max_length=100, description="The checklist, in order.")

    def plan(self) -> EmergencyPlan:
        steps = tuple(
            PlanStep(s.text, s.who, tuple(Contact(c.name, c.phone, c.note) for c in s.contacts)) for s in self.steps
        )
        return EmergencyPlan(self.type, self.title, self.severity, steps, self.description)


def parse_plan(text: str, source: str) -> EmergencyPlan:
    """A plan from its YAML text; ConfigError with every problem and its key path (``steps[2].text: ...``)."""
    if len(text.encode("utf-8")) > MAX_PLAN_BYTES:
        raise ConfigError(f"{source}: a plan is at most {MAX_PLAN_BYTES // 1024} kB")
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: a plan is a mapping of keys (type, title, severity, steps), not {type(data).__name__}"
        )
    try:
        return PlanConfig.model_validate(data).plan()
    except ValidationError as exc:
        raise ConfigError(
            describe_validation_error(exc, source).replace("in the configuration", "in the plan")
        ) from None


def plan_yaml(plan: EmergencyPlan) -> str:
    """A plan written as YAML (the form the console edits)."""
    doc = plan.as_dict()
    for step in doc["steps"]:
        if not step["who"]:
            del step["who"]
        if not step["contacts"]:
            del step["contacts"]
        for contact in step.get("contacts", []):
            for key in ("phone", "note"):
                if not contact[key]:
                    del contact[key]
    if not doc["description"]:
        del doc["description"]
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
