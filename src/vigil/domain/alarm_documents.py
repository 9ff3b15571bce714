"""What an alarm notification says (the body :meth:`vigil.usecases.notifications.Outbox.prepare` is given; the id,
kind, version, time and site are added there). Pure.

```json
{"title": "P1 Night intrusion: Main gate", "text": "A person entered zone 'Dock' at 22:14:05",
 "change": "raised", "notify": {"users": ["ana"], "roles": ["operator"]},
 "alarm": {"id": 12, "rule": "Night intrusion", "priority": 1, "state": "new", "camera_id": "gate", ...},
 "escalation": {"step": 1, "name": "supervisor"},         (only when change is "escalated")
 "event": {... the event that raised it, as in event notifications ...}}
```
"""

from __future__ import annotations

from typing import Any

from vigil.domain.alarms import Alarm, Recipients
from vigil.domain.notifications import Site, event_document
from vigil.domain.records import EventRecord
from vigil.domain.timeutil import iso_from_us


def alarm_title(rule: str, priority: int, camera_name: str) -> str:
    return f"P{priority} {rule}" + (f": {camera_name}" if camera_name else "")


def alarm_fields(alarm: Alarm, site: Site) -> dict[str, Any]:
    camera = site.camera_names.get(alarm.camera_id or "", alarm.camera_id or "")
    out: dict[str, Any] = {
        "id": alarm.id,
        "rule": alarm.rule,
        "priority": alarm.priority,
        "state": alarm.state.value,
        "camera_id": alarm.camera_id,
        "camera": camera or None,
        "site": alarm.site,
        "created": iso_from_us(alarm.created_us),
        "created_us": alarm.created_us,
        "event_count": alarm.event_count,
        "first_event_id": alarm.first_event_id,
        "last_event_id": alarm.last_event_id,
        "escalation_level": alarm.escalation_level,
        "acknowledged_by": alarm.acknowledged_by,
        "assigned_to": alarm.assigned_to,
        "resolved_by": alarm.resolved_by,
        "outcome": alarm.outcome,
    }
    if site.public_url:
        out["url"] = f"{site.public_url.rstrip('/')}/api/v1/alarms/{alarm.id}"
    return out


def alarm_body(
    alarm: Alarm,
    change: str,
    site: Site,
    recipients: Recipients,
    event: EventRecord | None,
    step: tuple[int, str] | None = None,
) -> dict[str, Any]:
    """The body of one alarm notification: ``change`` is what happened (raised, escalated, acknowledged...),
    ``recipients`` who is to act (the rule's routing, or the escalation step's), ``event`` the event that raised it."""
    body: dict[str, Any] = {
        "title": alarm.title if change == "raised" else f"{alarm.title} ({change})",
        "text": alarm.text,
        "change": change,
        "notify": {"users": list(recipients.users), "roles": list(recipients.roles)},
        "alarm": alarm_fields(alarm, site),
    }
    if step is not None:
        body["escalation"] = {"step": step[0] + 1, "name": step[1]}
    if event is not None:
        body["event"] = event_document("", alarm.created_us, site, event, "recorded")["event"]
    return body
