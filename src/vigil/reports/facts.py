"""What both forms of an incident report show, as rows of text: the facts, the durations, the checklist, the timeline
and the evidence list, with times in the site's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from vigil.domain.timeutil import datetime_from_us
from vigil.usecases.incident_report import IncidentReport


def when(report: IncidentReport, at_us: int | None) -> str:
    if at_us is None:
        return "-"
    local: datetime = datetime_from_us(at_us).astimezone(ZoneInfo(report.timezone))
    return local.strftime("%Y-%m-%d %H:%M:%S")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min {secs:02d} s" if hours else f"{minutes} min {secs:02d} s"


def facts(report: IncidentReport) -> list[tuple[str, str]]:
    inc = report.view.incident
    cameras = [report.camera_names.get(c, c) for c in report.view.cameras]
    return [
        ("Incident", f"#{inc.id} {inc.title}"),
        ("Type", inc.type + (f" (plan: {inc.plan_title})" if inc.plan_title else " (no plan)")),
        ("Severity", inc.severity),
        ("Place", inc.place or "-"),
        ("Cameras", ", ".join(cameras) or "-"),
        ("State", inc.state.value),
        ("Opened", f"{when(report, inc.opened_us)} by {inc.opened_by}"),
        ("Assigned", ", ".join(inc.assigned) or "-"),
        ("Closed", f"{when(report, inc.closed_us)} by {inc.closed_by}" if inc.closed_us else "-"),
        ("Outcome", inc.outcome or "-"),
        ("Alarms", ", ".join(f"#{a.id} {a.title} ({a.state.value})" for a in report.view.alarms) or "-"),
    ]


def durations(report: IncidentReport) -> list[tuple[str, str]]:
    d = report.view.incident.durations_s()
    return [
        ("Time to acknowledge", duration(d["to_acknowledge_s"])),
        ("Time to first action", duration(d["to_first_action_s"])),
        ("Time to close", duration(d["to_close_s"])),
    ]


def checklist_rows(report: IncidentReport) -> list[tuple[str, str, str, str, str]]:
    """(number, step, who, status, done when and by whom)."""
    out = []
    for row in report.view.checklist:
        contacts = "; ".join(f"{c.name} {c.phone}".strip() for c in row.step.contacts)
        text = row.step.text + (f" (call: {contacts})" if contacts else "")
        if row.tick is None:
            out.append((str(row.index + 1), text, row.step.who, "open", ""))
        else:
            done = f"{when(report, row.tick.at_us)} by {row.tick.by}" + (f": {row.tick.note}" if row.tick.note else "")
            out.append((str(row.index + 1), text, row.step.who, row.tick.status, done))
    return out


def timeline_rows(report: IncidentReport) -> list[tuple[str, str, str, str]]:
    return [(when(report, t.at_us), t.actor, t.what, t.text) for t in report.view.timeline]


def evidence_rows(report: IncidentReport) -> list[tuple[str, str, str, str]]:
    """(package, made, cameras and range, manifest SHA-256)."""
    return [
        (
            p.id,
            f"{when(report, p.created_us)} by {p.requested_by} for {p.recipient}",
            f"{', '.join(p.cameras)}: {when(report, p.start_us)} to {when(report, p.end_us)}",
            p.manifest_sha256,
        )
        for p in report.evidence
    ]
