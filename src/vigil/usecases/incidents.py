"""The incident desk: cases opened from alarms or by hand, alarms and events linked across cameras, notes (append-only;
a correction is a new note), people assigned, the checklist of the emergency plan of its type ticked step by step,
the outcome, and the three durations. Every change is stored with its history entry and written to the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from vigil.domain.alarms import Alarm, AlarmHistoryEntry
from vigil.domain.audit import AuditAction
from vigil.domain.errors import Conflict, InvalidRequest, NotFound
from vigil.domain.incidents import (
    MAX_TEXT_CHARS,
    ChecklistRow,
    Incident,
    IncidentChange,
    IncidentHistoryEntry,
    IncidentItem,
    IncidentState,
    ItemKind,
    Note,
    StepTick,
    TimelineEntry,
    check_incident,
    check_note,
    check_tick,
    checklist,
    ordered,
)
from vigil.domain.records import EventRecord
from vigil.ports import AlarmStore, AuditLog, Catalog, Clock, IncidentStore
from vigil.usecases.plans import PlanLibrary

MAX_LINKS = 500


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    alarms: list[Alarm]
    events: list[EventRecord]  # linked by hand, and those of its alarms
    notes: list[Note]
    checklist: list[ChecklistRow]
    evidence: list[str]  # ids of the evidence packages exported for it
    timeline: list[TimelineEntry]

    @property
    def cameras(self) -> list[str]:
        ids = [a.camera_id for a in self.alarms] + [e.camera_id for e in self.events]
        return sorted({c for c in ids if c})


class IncidentDesk:
    def __init__(
        self,
        store: IncidentStore,
        alarms: AlarmStore,
        catalog: Catalog,
        plans: PlanLibrary,
        audit: AuditLog,
        clock: Clock,
    ) -> None:
        self.store, self.alarms, self.catalog, self.plans = store, alarms, catalog, plans
        self.audit, self.clock = audit, clock

    def incident(self, incident_id: int) -> Incident:
        found = self.store.incident(incident_id)
        if found is None:
            raise NotFound(f"no incident with id {incident_id}")
        return found

    def open(
        self,
        type_: str,
        title: str,
        severity: str | None,
        place: str,
        by: str,
        client: str = "",
        alarm_ids: Sequence[int] = (),
        event_ids: Sequence[int] = (),
    ) -> Incident:
        """Open a case (from alarms, events, or by hand) with the checklist of its type's plan, if there is one."""
        plan = self.plans.plan(type_)
        severity = severity or (plan.severity if plan is not None else "medium")
        check_incident(type_, title, severity, place)
        now = self.clock.now_us()
        alarms, items = self._items(alarm_ids, event_ids, by, now)
        started = min([a.created_us for a in alarms] + [now])
        acked = min([a.acknowledged_us for a in alarms if a.acknowledged_us is not None] + [now])
        incident = Incident(
            id=0,
            type=type_,
            title=title.strip(),
            severity=severity,
            place=place.strip(),
            state=IncidentState.OPEN,
            opened_by=by,
            opened_us=now,
            started_us=started,
            acknowledged_us=acked,
            first_action_us=None,
            closed_us=None,
            closed_by=None,
            outcome="",
            assigned=(),
            plan_title=plan.title if plan is not None else "",
            steps=plan.steps if plan is not None else (),
            updated_us=now,
        )
        detail = {"type": type_, "severity": severity, "alarms": list(alarm_ids), "events": list(event_ids)}
        stored = self.store.add(incident, items, IncidentHistoryEntry(0, now, by, IncidentChange.OPENED, detail))
        self._mark_alarms(alarms, stored.id, by, now)
        self._audit(stored, by, client, IncidentChange.OPENED, detail)
        return stored

    def _items(
        self, alarm_ids: Sequence[int], event_ids: Sequence[int], by: str, now: int
    ) -> tuple[list[Alarm], list[IncidentItem]]:
        if len(alarm_ids) + len(event_ids) > MAX_LINKS:
            raise InvalidRequest(f"at most {MAX_LINKS} alarms and events at once")
        alarms = []
        for alarm_id in dict.fromkeys(alarm_ids):
            alarm = self.alarms.alarm(alarm_id)
            if alarm is None:
                raise InvalidRequest(f"alarms: no alarm with id {alarm_id}")
            alarms.append(alarm)
        for event_id in dict.fromkeys(event_ids):
            if self.catalog.event(event_id) is None:
                raise InvalidRequest(f"events: no event with id {event_id}")
        items = [IncidentItem(0, ItemKind.ALARM, str(a.id), by, now) for a in alarms]
        items += [IncidentItem(0, ItemKind.EVENT, str(e), by, now) for e in dict.fromkeys(event_ids)]
        return alarms, items

    def _mark_alarms(self, alarms: Sequence[Alarm], incident_id: int, by: str, now: int) -> None:
        for alarm in alarms:
            try:
                current = self.alarms.alarm(alarm.id) or alarm
                entry = AlarmHistoryEntry(alarm.id, now, by, "linked", {"incident": incident_id})
                self.alarms.update(replace(current, incident_id=incident_id, updated_us=now), current, entry)
            except Conflict:
                continue  # changed meanwhile: the incident still lists it

    def link(
        self, incident_id: int, alarm_ids: Sequence[int], event_ids: Sequence[int], by: str, client: str = ""
    ) -> Incident:
        incident = self._open_one(incident_id)
        now = self.clock.now_us()
        alarms, items = self._items(alarm_ids, event_ids, by, now)
        detail = {"alarms": list(alarm_ids), "events": list(event_ids)}
        added = self.store.add_items(incident_id, items, IncidentHistoryEntry(incident_id, now, by, "linked", detail))
        if not added:
            return incident
        self._mark_alarms(alarms, incident_id, by, now)
        started = min([a.created_us for a in alarms] + [incident.started_us])
        acked = min(
            [a.acknowledged_us for a in alarms if a.acknowledged_us is not None] + [incident.acknowledged_us or now]
        )
        new = replace(incident, started_us=started, acknowledged_us=acked, updated_us=now)
        if new != incident:
            self.store.update(new, IncidentHistoryEntry(incident_id, now, by, "linked", {"times": "recomputed"}))
        self._audit(new, by, client, IncidentChange.LINKED, detail)
        return new

    def note(self, incident_id: int, text: str, by: str, corrects: int | None = None, client: str = "") -> Note:
        incident = self.incident(incident_id)  # a closed case still takes notes (a late fact, a correction)
        text = check_note(text, corrects, self.store.notes(incident_id))
        now = self.clock.now_us()
        stored = self.store.add_note(Note(0, incident_id, now, by, text, corrects), now)
        detail = {"note": stored.id, **({"corrects": corrects} if corrects is not None else {})}
        self._audit(incident, by, client, IncidentChange.NOTE, detail)
        return stored

    def assign(self, incident_id: int, users: Sequence[str], by: str, client: str = "") -> Incident:
        incident = self._open_one(incident_id)
        names = tuple(dict.fromkeys(u.strip().lower() for u in users if u.strip()))
        now = self.clock.now_us()
        new = replace(incident, assigned=names, updated_us=now)
        self.store.update(new, IncidentHistoryEntry(incident_id, now, by, IncidentChange.ASSIGNED, {"to": list(names)}))
        self._audit(new, by, client, IncidentChange.ASSIGNED, {"to": list(names)})
        return new

    def tick(self, incident_id: int, step: int, status: str, by: str, note: str = "", client: str = "") -> StepTick:
        incident = self.incident(incident_id)
        check_tick(incident, self.store.ticks(incident_id), step, status)
        if len(note) > MAX_TEXT_CHARS:
            raise InvalidRequest(f"note: at most {MAX_TEXT_CHARS} characters")
        now = self.clock.now_us()
        tick = self.store.tick(StepTick(incident_id, step, status, by, now, note.strip()), now)
        self._audit(incident, by, client, IncidentChange.STEP, {"step": step + 1, "status": status})
        return tick

    def close(self, incident_id: int, outcome: str, by: str, client: str = "") -> Incident:
        incident = self._open_one(incident_id)
        outcome = outcome.strip()
        if not outcome or len(outcome) > MAX_TEXT_CHARS:
            raise InvalidRequest(f"outcome: required to close an incident, at most {MAX_TEXT_CHARS} characters")
        now = self.clock.now_us()
        new = replace(
            incident, state=IncidentState.CLOSED, closed_us=now, closed_by=by, outcome=outcome, updated_us=now
        )
        self.store.update(new, IncidentHistoryEntry(incident_id, now, by, IncidentChange.CLOSED, {"outcome": outcome}))
        self._audit(new, by, client, IncidentChange.CLOSED, {"outcome": outcome, **new.durations_s()})
        return new

    def reopen(self, incident_id: int, reason: str, by: str, client: str = "") -> Incident:
        incident = self.incident(incident_id)
        if incident.state is IncidentState.OPEN:
            raise Conflict(f"incident {incident_id} is open")
        if not reason.strip():
            raise InvalidRequest("reason: required to reopen an incident")
        now = self.clock.now_us()
        new = replace(incident, state=IncidentState.OPEN, closed_us=None, closed_by=None, updated_us=now)
        detail = {"reason": reason.strip(), "outcome_was": incident.outcome}
        self.store.update(new, IncidentHistoryEntry(incident_id, now, by, IncidentChange.REOPENED, detail))
        self._audit(new, by, client, IncidentChange.REOPENED, detail)
        return new

    def record_evidence(self, incident_id: int, package_id: str, by: str) -> None:
        now = self.clock.now_us()
        item = IncidentItem(incident_id, ItemKind.EVIDENCE, package_id, by, now)
        self.store.add_items(
            incident_id, [item], IncidentHistoryEntry(incident_id, now, by, "linked", {"evidence": package_id})
        )

    def _open_one(self, incident_id: int) -> Incident:
        incident = self.incident(incident_id)
        if incident.state is IncidentState.CLOSED:
            raise Conflict(f"incident {incident_id} is closed (reopen it first)")
        return incident

    def _audit(self, incident: Incident, by: str, client: str, change: str, detail: dict[str, Any]) -> None:
        self.audit.append(
            self.clock.now_us(),
            by,
            AuditAction.INCIDENT,
            client=client,
            detail={"incident": incident.id, "change": change, **detail},
        )

    # --- reading ---------------------------------------------------------------------------------------------------
    def view(self, incident_id: int) -> IncidentView:
        incident = self.incident(incident_id)
        items = self.store.items(incident_id)
        alarms = [a for a in (self.alarms.alarm(int(i.ref)) for i in items if i.kind == ItemKind.ALARM) if a]
        event_ids = [int(i.ref) for i in items if i.kind == ItemKind.EVENT]
        for alarm in alarms:
            event_ids += self.alarms.event_ids(alarm.id)[:50]
        events = [e for e in (self.catalog.event(i) for i in dict.fromkeys(event_ids)) if e is not None]
        events.sort(key=lambda e: (e.start_us, e.id))
        notes = self.store.notes(incident_id)
        rows = checklist(incident.steps, self.store.ticks(incident_id))
        evidence = [i.ref for i in items if i.kind == ItemKind.EVIDENCE]
        timeline = self._timeline(incident, alarms, events, notes)
        return IncidentView(incident, alarms, events, notes, rows, evidence, timeline)

    def _timeline(
        self, incident: Incident, alarms: Sequence[Alarm], events: Sequence[EventRecord], notes: Sequence[Note]
    ) -> list[TimelineEntry]:
        texts = {n.id: n.text for n in notes}
        out = []
        for h in self.store.history(incident.id):
            text = texts.get(int(h.detail.get("note", 0)), "") if h.change == "note" else _words(h.detail)
            what = f"step {h.detail.get('step')} {h.detail.get('status')}" if h.change == "step" else h.change
            if h.change == "note" and h.detail.get("corrects"):
                what = f"note (corrects note {h.detail['corrects']})"
            out.append(TimelineEntry(h.at_us, h.actor, what, text, "incident"))
        for alarm in alarms:
            for ah in self.alarms.history(alarm.id):
                if ah.change == "folded":
                    continue
                out.append(
                    TimelineEntry(ah.at_us, ah.actor, f"alarm {alarm.id} {ah.change}", _words(ah.detail), "alarm")
                )
        for e in events:
            out.append(TimelineEntry(e.start_us, e.camera_id or "", f"event {e.id} {e.type}", e.description, "event"))
        return ordered(out)

    def incidents(self, state: str | None = None, limit: int = 100, offset: int = 0) -> list[Incident]:
        if state is not None and state not in set(IncidentState):
            raise InvalidRequest(f"state: {state!r} is not one of {', '.join(IncidentState)}")
        return self.store.incidents(state=state, limit=limit, offset=offset)


def _words(detail: dict[str, Any] | Any) -> str:
    return ", ".join(f"{k}: {v}" for k, v in dict(detail).items() if v not in (None, "", [], {}))
