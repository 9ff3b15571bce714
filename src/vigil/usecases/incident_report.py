"""What an incident report holds (facts, durations, timeline, checklist with times, snapshots, evidence list), and
the evidence package request of an incident: its cameras over its time span, with its records (the incident, its
alarms, notes and checklist) as JSON records of the package. The report's HTML and PDF forms are made by the
``reports`` adapter; exporting goes through the existing :class:`vigil.usecases.evidence.EvidenceExporter`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vigil.domain.evidence import EvidenceRequest, PackageRecord, moment
from vigil.domain.incidents import IncidentState
from vigil.domain.records import EventRecord
from vigil.ports import EvidenceRegister
from vigil.usecases.incidents import IncidentView

MAX_SNAPSHOTS = 12
PAD_US = 30 * 1_000_000  # footage exported before the first and after the last thing of an incident


@dataclass(frozen=True)
class Snapshot:
    event: EventRecord
    jpeg: bytes


@dataclass(frozen=True)
class IncidentReport:
    site: str
    timezone: str
    generated_us: int
    generated_by: str
    view: IncidentView
    camera_names: dict[str, str]
    snapshots: list[Snapshot] = field(default_factory=list)
    evidence: list[PackageRecord] = field(default_factory=list)


def build_report(
    view: IncidentView,
    *,
    site: str,
    timezone: str,
    camera_names: dict[str, str],
    now_us: int,
    by: str,
    snapshot: Callable[[str], bytes | None],
    register: EvidenceRegister | None,
) -> IncidentReport:
    shots = []
    for event in view.events:
        relpath = str(event.data.get("snapshot", ""))
        jpeg = snapshot(relpath) if relpath else None
        if jpeg:
            shots.append(Snapshot(event, jpeg))
        if len(shots) >= MAX_SNAPSHOTS:
            break
    packages = [register.package(p) for p in view.evidence] if register is not None else []
    return IncidentReport(site, timezone, now_us, by, view, camera_names, shots, [p for p in packages if p is not None])


def span_of(view: IncidentView, now_us: int) -> tuple[int, int]:
    """The time an incident covers: from its first alarm or event (or its start) to its last one, or its close (now
    while it is open), padded by :data:`PAD_US` on both sides."""
    inc = view.incident
    starts = [inc.started_us] + [a.created_us for a in view.alarms] + [e.start_us for e in view.events]
    ends = [e.end_us or e.start_us for e in view.events] + [a.last_event_us for a in view.alarms]
    ends.append(inc.closed_us if inc.state is IncidentState.CLOSED and inc.closed_us else now_us)
    return min(starts) - PAD_US, max(ends) + PAD_US


def incident_records(view: IncidentView) -> dict[str, Any]:
    """The incident's own records, as the package keeps them (``records/incident.json`` ...)."""
    inc = view.incident
    return {
        "incident": {
            "id": inc.id,
            "type": inc.type,
            "title": inc.title,
            "severity": inc.severity,
            "place": inc.place,
            "state": inc.state.value,
            "opened_by": inc.opened_by,
            **moment("opened", inc.opened_us),
            **moment("started", inc.started_us),
            "closed_by": inc.closed_by,
            "closed_us": inc.closed_us,
            "outcome": inc.outcome,
            "assigned": list(inc.assigned),
            "plan": inc.plan_title,
            "durations_s": inc.durations_s(),
            "timeline": [
                {**moment("at", t.at_us), "actor": t.actor, "what": t.what, "text": t.text} for t in view.timeline
            ],
        },
        "alarms": [
            {
                "id": a.id,
                "rule": a.rule,
                "priority": a.priority,
                "camera_id": a.camera_id,
                "state": a.state.value,
                **moment("created", a.created_us),
                "event_count": a.event_count,
                "acknowledged_by": a.acknowledged_by,
                "acknowledged_us": a.acknowledged_us,
                "resolved_by": a.resolved_by,
                "resolved_us": a.resolved_us,
                "outcome": a.outcome,
            }
            for a in view.alarms
        ],
        "notes": [
            {"id": n.id, **moment("at", n.at_us), "author": n.author, "text": n.text, "corrects": n.corrects}
            for n in view.notes
        ],
        "checklist": [
            {
                "step": row.index + 1,
                "text": row.step.text,
                "who": row.step.who,
                "status": row.tick.status if row.tick else "open",
                "by": row.tick.by if row.tick else None,
                "at_us": row.tick.at_us if row.tick else None,
                "note": row.tick.note if row.tick else "",
            }
            for row in view.checklist
        ],
    }


def incident_evidence_request(
    view: IncidentView, *, reason: str, recipient: str, by: str, client: str, now_us: int
) -> EvidenceRequest:
    """The evidence package of an incident (its cameras over its span, with its records)."""
    start, end = span_of(view, now_us)
    return EvidenceRequest(
        camera_ids=tuple(view.cameras),
        start_us=start,
        end_us=end,
        reason=reason,
        recipient=recipient,
        requested_by=by,
        client=client,
        records=incident_records(view),
    )
