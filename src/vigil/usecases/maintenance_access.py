"""Who sees which equipment and tickets. Pure rules over a principal; the API applies them.

- Admins see and do everything. Auditors read everything (``reports``), change nothing.
- Operators and technicians (``maintenance``) see the whole register and work tickets; an operator sees the tickets of
  the cameras whose health they may see (and those of no camera).
- A vendor's account sees only the equipment of its vendor and the tickets given to that vendor or to itself, and
  may not add or remove equipment.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping

from vigil.domain.access import Action, Grant, Principal, Role
from vigil.domain.equipment import Equipment
from vigil.domain.tickets import Ticket
from vigil.domain.timeutil import iso_from_us


def technician_grants(
    username: str, vendor: str | None, open_work: set[str], vendor_cameras: set[str]
) -> tuple[Grant, ...]:
    """What a technician may see of cameras: the health of every camera (a vendor's account: of its vendor's cameras
    and those of its tickets), and live pictures of the cameras of the open tickets given to them or their vendor,
    for as long as the tickets are open (``open_work``)."""
    health = [Grant()] if not vendor else [Grant(camera_id=c) for c in sorted(vendor_cameras | open_work)]
    live = [Grant(camera_id=c, actions=frozenset({Action.LIVE})) for c in sorted(open_work)]
    return (*health, *live)


def may_read(p: Principal) -> bool:
    return p.may(Action.MAINTENANCE) or p.may(Action.REPORTS)


def may_work(p: Principal) -> bool:
    return p.may(Action.MAINTENANCE)


def sees_equipment(p: Principal, e: Equipment) -> bool:
    if p.role is Role.ADMIN:
        return True
    if p.vendor:
        return e.vendor == p.vendor
    return may_read(p)


def sees_ticket(p: Principal, t: Ticket, sites: Mapping[str, str]) -> bool:
    if p.role is Role.ADMIN:
        return True
    if p.vendor:
        return t.vendor == p.vendor or t.assignee == p.username
    if p.role in (Role.TECHNICIAN, Role.AUDITOR):
        return True
    if not may_read(p):
        return False
    return all(p.may_on(Action.HEALTH, c, sites.get(c, "")) for c in t.cameras)


TICKET_COLUMNS = (
    "id",
    "equipment_id",
    "kind",
    "title",
    "priority",
    "state",
    "cameras",
    "source",
    "opened",
    "first_seen",
    "fault_cleared",
    "respond_due",
    "restore_due",
    "responded",
    "assignee",
    "vendor",
    "resolved",
    "resolved_by",
    "verified",
    "closed",
    "work_done",
    "parts",
    "time_spent_min",
    "vendor_ref",
    "reopened",
    "overdue",
)


def tickets_csv(tickets: Iterable[Ticket]) -> str:
    """Tickets as CSV, one row each, times in ISO 8601 UTC."""

    def when(us: int | None) -> str:
        return iso_from_us(us) if us is not None else ""

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TICKET_COLUMNS)
    for t in tickets:
        writer.writerow(
            [
                t.id,
                t.equipment_id,
                t.kind.value,
                t.title,
                t.priority,
                t.state.value,
                " ".join(t.cameras),
                t.source,
                when(t.opened_us),
                when(t.first_seen_us),
                when(t.fault_cleared_us),
                when(t.respond_due_us),
                when(t.restore_due_us),
                when(t.responded_us),
                t.assignee,
                t.vendor,
                when(t.resolved_us),
                t.resolved_by,
                when(t.verified_us),
                when(t.closed_us),
                " ".join(t.work_done),
                "; ".join(t.parts),
                t.time_spent_min,
                t.vendor_ref,
                t.reopened,
                " ".join(t.overdue),
            ]
        )
    return out.getvalue()
