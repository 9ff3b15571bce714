"""The library of emergency plans: every plan with its YAML text and whether it is valid, one plan by incident type,
and saving a plan (checked like a configuration file, refused with every problem and its key path when malformed,
written atomically with the previous version kept, and audited)."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.config.plans import parse_plan
from vigil.domain.audit import AuditAction
from vigil.domain.errors import ConfigError, InvalidRequest, NotFound
from vigil.domain.plans import EmergencyPlan
from vigil.ports import AuditLog, Clock, PlanStore


@dataclass(frozen=True, slots=True)
class PlanEntry:
    type: str
    text: str  # the YAML as written
    revision: str  # "" while it is the built-in plan (no file yet)
    built_in: bool
    plan: EmergencyPlan | None  # None when the text is not a valid plan
    problem: str = ""  # what is wrong with it, when it is not valid


class PlanLibrary:
    def __init__(self, store: PlanStore, audit: AuditLog, clock: Clock) -> None:
        self.store, self.audit, self.clock = store, audit, clock

    def entries(self) -> list[PlanEntry]:
        return [self._entry(kind, *found) for kind, found in sorted(self.store.texts().items())]

    def entry(self, plan_type: str) -> PlanEntry:
        found = self.store.texts().get(plan_type)
        if found is None:
            raise NotFound(f"no emergency plan for incident type {plan_type!r}")
        return self._entry(plan_type, *found)

    def plan(self, plan_type: str) -> EmergencyPlan | None:
        """The valid plan of an incident type, or None (no plan, or a malformed one)."""
        found = self.store.texts().get(plan_type)
        return self._entry(plan_type, *found).plan if found is not None else None

    @staticmethod
    def _entry(plan_type: str, text: str, revision: str, built_in: bool) -> PlanEntry:
        try:
            plan = parse_plan(text, f"plans/{plan_type}.yaml")
        except ConfigError as exc:
            return PlanEntry(plan_type, text, revision, built_in, None, exc.message)
        if plan.type != plan_type:
            problem = f"plans/{plan_type}.yaml: its type is {plan.type!r}; a plan's file is named after its type"
            return PlanEntry(plan_type, text, revision, built_in, None, problem)
        return PlanEntry(plan_type, text, revision, built_in, plan)

    def save(self, plan_type: str, text: str, revision: str, by: str, client: str = "", reason: str = "") -> PlanEntry:
        """Write the plan if it is valid (ConfigError naming every problem otherwise) and record it."""
        plan = parse_plan(text, f"plans/{plan_type}.yaml")
        if plan.type != plan_type:
            raise InvalidRequest(f"type: the plan says {plan.type!r} but is saved as {plan_type!r}")
        new_revision = self.store.write(plan_type, text, revision)
        self.audit.append(
            self.clock.now_us(),
            by,
            AuditAction.PLAN_CHANGE,
            client=client,
            reason=reason,
            detail={"plan": plan_type, "title": plan.title, "steps": len(plan.steps), "was_built_in": revision == ""},
        )
        return PlanEntry(plan_type, text, new_revision, False, plan)
