"""The maintenance desk: what people do with tickets. Open one by hand (from the console, an alarm or an incident),
acknowledge, assign to a person or a vendor, start, wait for parts, resolve with the work done, close a verified
one, reopen, change the details, write notes, and plan a maintenance window from a ticket. Every act names the
revision the person saw (two people changing one ticket at once: the second is told and loses nothing), is stored
with its history entry and notifications in one transaction, and is written to the audit log.

Who may do it is the API's business (``api.ticket_routes``): admins and operators on every ticket, technicians on
the tickets given to them, a vendor's accounts on their vendor's tickets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from vigil.domain.alarms import Suppression, SuppressionKind, check_suppression
from vigil.domain.audit import AuditAction
from vigil.domain.errors import InvalidRequest, NotFound
from vigil.domain.tickets import (
    DONE_STATES,
    Ticket,
    TicketChange,
    TicketHistoryEntry,
    TicketKind,
    TicketSource,
    TicketState,
    acknowledge,
    assign,
    check_priority,
    check_revision,
    check_text,
    close,
    deadlines,
    edit,
    order_queue,
    reopen_by_hand,
    resolve,
    start,
    ticket_title,
    wait,
)
from vigil.ports import AlarmStore, AuditLog, Clock, EquipmentStore, MaintenanceFileStore, TicketStore
from vigil.usecases.notifications import Outbox
from vigil.usecases.ticket_engine import TicketEngine, TicketSettings, ticket_notifications

MAX_NOTE_CHARS = 4000


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket with what the console shows beside it."""

    ticket: Ticket
    history: list[TicketHistoryEntry]
    event_ids: list[int]


class TicketDesk:
    def __init__(
        self,
        store: TicketStore,
        equipment: EquipmentStore,
        files: MaintenanceFileStore,
        audit: AuditLog,
        clock: Clock,
        settings: Callable[[], TicketSettings],
        outbox: Outbox | None = None,
        alarms: AlarmStore | None = None,
        engine: TicketEngine | None = None,
        known_user: Callable[[str], bool] = lambda _name: True,
    ) -> None:
        self.store, self.equipment, self.files, self.audit, self.clock = store, equipment, files, audit, clock
        self.settings = settings
        self.outbox = outbox
        self.alarms = alarms
        self.engine = engine
        self.known_user = known_user

    # --- reading ---------------------------------------------------------------------------------------------
    def ticket(self, ticket_id: int) -> Ticket:
        found = self.store.ticket(ticket_id)
        if found is None:
            raise NotFound(f"no ticket with id {ticket_id}")
        return found

    def view(self, ticket_id: int) -> TicketView:
        ticket = self.ticket(ticket_id)
        return TicketView(ticket, self.store.history(ticket_id), self.store.event_ids(ticket_id))

    def queue(self, *, vendor: str | None = None, assignee: str | None = None, limit: int = 500) -> list[Ticket]:
        """The tickets not done yet, nearest deadline first."""
        states = [s.value for s in TicketState if s not in DONE_STATES]
        found = self.store.tickets(states=states, vendor=vendor, limit=limit)
        if assignee is not None:
            found = [t for t in found if t.assignee == assignee or (vendor is not None and t.vendor == vendor)]
        return order_queue(found)

    def picture(self, ticket_id: int, which: str) -> bytes:
        ticket = self.ticket(ticket_id)
        relpath = {"good": ticket.good_picture, "fault": ticket.fault_picture}.get(which)
        if relpath is None:
            raise InvalidRequest("which: good or fault")
        if not relpath:
            raise NotFound(f"ticket {ticket_id} has no {which} picture")
        return self.files.picture(relpath)

    # --- opening by hand ---------------------------------------------------------------------------------------
    def open(
        self,
        equipment_id: str,
        by: str,
        *,
        kind: str = TicketKind.OTHER.value,
        title: str = "",
        priority: int | None = None,
        cameras: Sequence[str] | None = None,
        source: str = TicketSource.MANUAL.value,
        source_ref: str = "",
        note: str = "",
        client: str = "",
    ) -> Ticket:
        """A ticket opened by a person (from the console, an alarm or an incident)."""
        item = self.equipment.get(equipment_id)
        if item is None or not item.active:
            raise InvalidRequest(f"equipment_id: no equipment with id {equipment_id!r} in the register")
        if kind not in set(TicketKind):
            raise InvalidRequest(f"kind: {kind!r} is not one of {', '.join(TicketKind)}")
        if source not in set(TicketSource):
            raise InvalidRequest(f"source: {source!r} is not one of {', '.join(TicketSource)}")
        s = self.settings()
        ticket_kind = TicketKind(kind)
        prio = check_priority(priority) if priority is not None else s.priorities.get(ticket_kind, 3)
        camera_list = tuple(cameras) if cameras else ((equipment_id,) if item.kind.value == "camera" else ())
        now = self.clock.now_us()
        respond, restore = deadlines(now, prio, s.levels)
        title = check_text("title", title, 200) or ticket_title(ticket_kind, item.name, camera_list)
        ticket = Ticket(
            id=0,
            equipment_id=equipment_id,
            kind=ticket_kind,
            title=title,
            priority=prio,
            state=TicketState.OPEN,
            source=source,
            opened_us=now,
            opened_by=check_text("by", by, 100, required=True),
            updated_us=now,
            cameras=camera_list,
            source_ref=check_text("source_ref", source_ref, 100),
            respond_due_us=respond,
            restore_due_us=restore,
            detail=check_text("note", note, MAX_NOTE_CHARS),
        )
        detail = {"source": source, "source_ref": ticket.source_ref, "cameras": list(camera_list)}
        entry = TicketHistoryEntry(0, now, by, TicketChange.OPENED, detail)
        stored = self.store.add(
            ticket, entry, notifications=lambda t: ticket_notifications(self.outbox, t, TicketChange.OPENED, s)
        )
        self._told()
        self._audit(stored, by, client, "opened", detail)
        return stored

    # --- acts on a ticket ------------------------------------------------------------------------------------------
    def acknowledge(self, ticket_id: int, by: str, revision: int | None, client: str = "") -> Ticket:
        return self._act(
            ticket_id, revision, by, client, TicketChange.ACKNOWLEDGED, {}, lambda t, n: acknowledge(t, by, n)
        )

    def assign(
        self, ticket_id: int, by: str, revision: int | None, assignee: str = "", vendor: str = "", client: str = ""
    ) -> Ticket:
        assignee = assignee.strip().lower()
        if assignee and not self.known_user(assignee):
            raise InvalidRequest(f"assignee: no user named {assignee!r}")
        detail = {"assignee": assignee, "vendor": vendor.strip()}
        return self._act(
            ticket_id,
            revision,
            by,
            client,
            TicketChange.ASSIGNED,
            detail,
            lambda t, n: assign(t, assignee, vendor, by, n),
        )

    def start(self, ticket_id: int, by: str, revision: int | None, client: str = "") -> Ticket:
        return self._act(ticket_id, revision, by, client, TicketChange.STARTED, {}, lambda t, n: start(t, by, n))

    def wait(self, ticket_id: int, by: str, revision: int | None, why: str = "", client: str = "") -> Ticket:
        detail = {"why": check_text("why", why, 500)}
        return self._act(ticket_id, revision, by, client, TicketChange.WAITING, detail, lambda t, n: wait(t, by, n))

    def resolve(
        self,
        ticket_id: int,
        by: str,
        revision: int | None,
        work_done: Sequence[str] = (),
        parts: Sequence[str] = (),
        time_spent_min: int | None = None,
        note: str = "",
        client: str = "",
    ) -> Ticket:
        """A person says it is fixed; Vigil verifies it (the ticket says so while it checks)."""
        detail: dict[str, Any] = {"work_done": list(work_done), "parts": list(parts), "note": check_text("note", note)}
        if time_spent_min is not None:
            detail["time_spent_min"] = time_spent_min
        done = self._act(
            ticket_id,
            revision,
            by,
            client,
            TicketChange.RESOLVED,
            detail,
            lambda t, n: resolve(t, by, n, work_done, parts, time_spent_min),
        )
        if self.engine is not None:
            self.engine.wake()  # the verification starts looking now
        return done

    def close(self, ticket_id: int, by: str, revision: int | None, client: str = "") -> Ticket:
        return self._act(ticket_id, revision, by, client, TicketChange.CLOSED, {}, lambda t, n: close(t, by, n))

    def reopen(self, ticket_id: int, by: str, revision: int | None, why: str, client: str = "") -> Ticket:
        detail = {"why": check_text("why", why, 500, required=True)}
        return self._act(
            ticket_id, revision, by, client, TicketChange.REOPENED, detail, lambda t, n: reopen_by_hand(t, by, n)
        )

    def edit(
        self,
        ticket_id: int,
        by: str,
        revision: int | None,
        *,
        priority: int | None = None,
        work_done: Sequence[str] | None = None,
        parts: Sequence[str] | None = None,
        time_spent_min: int | None = None,
        vendor_ref: str | None = None,
        client: str = "",
    ) -> Ticket:
        given = {
            "priority": priority,
            "work_done": None if work_done is None else list(work_done),
            "parts": None if parts is None else list(parts),
            "time_spent_min": time_spent_min,
            "vendor_ref": vendor_ref,
        }
        detail = {k: v for k, v in given.items() if v is not None}
        levels = self.settings().levels
        return self._act(
            ticket_id,
            revision,
            by,
            client,
            TicketChange.EDITED,
            detail,
            lambda t, n: edit(
                t,
                by,
                n,
                priority=priority,
                work_done=work_done,
                parts=parts,
                time_spent_min=time_spent_min,
                vendor_ref=vendor_ref,
                levels=levels,
            ),
        )

    def note(self, ticket_id: int, by: str, text: str, client: str = "") -> TicketHistoryEntry:
        """Append a note (notes are never edited; a correction is another note)."""
        ticket = self.ticket(ticket_id)
        body = check_text("text", text, MAX_NOTE_CHARS, required=True)
        entry = TicketHistoryEntry(
            ticket_id, self.clock.now_us(), check_text("by", by, 100, True), "note", {"text": body}
        )
        self.store.note(entry)
        self._audit(ticket, by, client, "note", {"chars": len(body)})
        return entry

    def plan_window(
        self, ticket_id: int, by: str, start_us: int, end_us: int, reason: str = "", client: str = ""
    ) -> Suppression:
        """A maintenance window for the ticket's cameras: their alarms are suppressed meanwhile (recorded), it shows
        on the ticket and the timeline, and its downtime counts as planned."""
        if self.alarms is None:
            raise InvalidRequest("this node keeps no alarms: no maintenance window can be planned")
        ticket = self.ticket(ticket_id)
        if not ticket.cameras:
            raise InvalidRequest(f"ticket {ticket_id} names no camera to plan a window for")
        words = check_text("reason", reason, 500) or f"maintenance ticket {ticket_id}: {ticket.title}"
        check_suppression(SuppressionKind.MAINTENANCE, ticket.cameras, start_us, end_us, words)
        now = self.clock.now_us()
        placed = self.alarms.add_suppression(
            Suppression(
                0,
                SuppressionKind.MAINTENANCE.value,
                ticket.cameras,
                start_us,
                end_us,
                words,
                by,
                now,
                ticket_id=ticket_id,
            )
        )
        detail = {"suppression": placed.id, "start_us": start_us, "end_us": end_us}
        self.store.note(TicketHistoryEntry(ticket_id, now, by, TicketChange.WINDOW, detail))
        self._audit(ticket, by, client, "window", detail)
        return placed

    # --- the one way a change is stored ----------------------------------------------------------------------------
    def _act(
        self,
        ticket_id: int,
        revision: int | None,
        by: str,
        client: str,
        change: TicketChange,
        detail: dict[str, Any],
        make: Callable[[Ticket, int], Ticket],
    ) -> Ticket:
        ticket = self.ticket(ticket_id)
        check_revision(ticket, revision)
        now = self.clock.now_us()
        new = make(ticket, now)
        entry = TicketHistoryEntry(ticket_id, now, by, change, detail)
        items = ticket_notifications(self.outbox, new, change, self.settings())
        stored = self.store.update(new, ticket.revision, entry, items)
        if items:
            self._told()
        self._audit(stored, by, client, change.value, detail)
        return stored

    def _told(self) -> None:
        if self.outbox is not None:
            self.outbox.wake()

    def _audit(self, ticket: Ticket, by: str, client: str, change: str, detail: dict[str, Any]) -> None:
        camera = ticket.cameras[0] if len(ticket.cameras) == 1 else None
        self.audit.append(
            self.clock.now_us(),
            by,
            AuditAction.TICKET,
            camera_id=camera,
            client=client,
            detail={"ticket": ticket.id, "change": change, "equipment": ticket.equipment_id, **detail},
        )
