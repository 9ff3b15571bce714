"""Emergency plans: per incident type, a checklist of steps, each with who does it and the contacts to call.
Pure. Plans live in YAML files (``config.plans`` validates them; ``storage.plan_files`` keeps them); an incident
of a type copies its plan's steps when it opens, so a plan edited later does not change a case already running.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

INCIDENT_SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    phone: str = ""
    note: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "phone": self.phone, "note": self.note}


@dataclass(frozen=True, slots=True)
class PlanStep:
    text: str
    who: str = ""  # a role or a person, in words (e.g. "operator", "duty manager")
    contacts: tuple[Contact, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "who": self.who, "contacts": [c.as_dict() for c in self.contacts]}


@dataclass(frozen=True, slots=True)
class EmergencyPlan:
    type: str  # the incident type it is for (e.g. intrusion, fire, medical)
    title: str
    severity: str  # the usual severity of such an incident (INCIDENT_SEVERITIES)
    steps: tuple[PlanStep, ...]
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "title": self.title,
            "severity": self.severity,
            "description": self.description,
            "steps": [s.as_dict() for s in self.steps],
        }


def steps_of(data: list[dict[str, Any]]) -> tuple[PlanStep, ...]:
    """Steps back from :meth:`PlanStep.as_dict` (as an incident keeps them)."""
    return tuple(
        PlanStep(
            str(s.get("text", "")),
            str(s.get("who", "")),
            tuple(
                Contact(str(c.get("name", "")), str(c.get("phone", "")), str(c.get("note", "")))
                for c in s.get("contacts", [])
            ),
        )
        for s in data
    )
