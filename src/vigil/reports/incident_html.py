"""An incident report as one self-contained HTML page (styles inline, snapshots as data: URLs): it can be mailed,
archived or printed as it is."""

from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from vigil.reports.facts import checklist_rows, durations, evidence_rows, facts, timeline_rows, when
from vigil.usecases.incident_report import IncidentReport

_ENV = Environment(
    loader=FileSystemLoader(str(Path(__file__).resolve().parent)), autoescape=select_autoescape(default=True)
)
_PAGE = _ENV.get_template("incident.html")


def render_html(report: IncidentReport) -> str:
    inc = report.view.incident
    shots = [
        {
            "id": s.event.id,
            "camera": report.camera_names.get(s.event.camera_id or "", s.event.camera_id or ""),
            "at": when(report, s.event.start_us),
            "text": s.event.description,
            "data": base64.b64encode(s.jpeg).decode("ascii"),
        }
        for s in report.snapshots
    ]
    return _PAGE.render(
        inc=inc,
        site=report.site,
        generated=when(report, report.generated_us),
        by=report.generated_by,
        timezone=report.timezone,
        facts=facts(report),
        durations=durations(report),
        checklist=checklist_rows(report),
        timeline=timeline_rows(report),
        notes=report.view.notes,
        when=lambda at: when(report, at),
        shots=shots,
        evidence=evidence_rows(report),
    )
