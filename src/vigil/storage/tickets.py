"""Maintenance tickets in the catalog's database (tables of migration 0012): ``SqlTickets`` is the
:class:`vigil.ports.TicketStore`. A ticket's row, its cameras, the fault events linked to it, its history entry and
the notifications it sends are written in one transaction; updates are compare-and-set on the revision, so two people
changing one ticket at once (or a person and Vigil's verification) cannot both win unseen."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from vigil.domain.errors import Conflict, NotFound
from vigil.domain.notifications import NewNotification
from vigil.domain.tickets import UNVERIFIED_STATES, Ticket, TicketHistoryEntry, TicketKind, TicketState
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog
from vigil.storage.outbox import insert_notifications

_t = t.tickets.c
_tc = t.ticket_cameras.c
_te = t.ticket_events.c
_th = t.ticket_history.c
TUPLES = ("cameras", "work_done", "parts", "overdue")
FIELDS = [c.name for c in t.tickets.c if c.name not in ("id", "kind", "state", *TUPLES)]


def _ticket(row: RowMapping) -> Ticket:
    values: dict[str, Any] = {name: row[name] for name in FIELDS}
    for name in TUPLES:
        values[name] = tuple(row[name] or ())
    return Ticket(id=row["id"], kind=TicketKind(row["kind"]), state=TicketState(row["state"]), **values)


def _values(ticket: Ticket) -> dict[str, Any]:
    values = {name: getattr(ticket, name) for name in FIELDS}
    values["kind"] = ticket.kind.value
    values["state"] = ticket.state.value
    for name in TUPLES:
        values[name] = list(getattr(ticket, name))
    return values


def _history(conn: Connection, entry: TicketHistoryEntry, ticket_id: int) -> None:
    conn.execute(
        insert(t.ticket_history).values(
            ticket_id=ticket_id,
            at_us=entry.at_us,
            actor=entry.actor,
            change=str(entry.change),
            detail=dict(entry.detail),
        )
    )


def _link(conn: Connection, ticket_id: int, cameras: Sequence[str], event_ids: Sequence[int]) -> None:
    have = set(conn.execute(select(_tc.camera_id).where(_tc.ticket_id == ticket_id)).scalars())
    for camera in dict.fromkeys(cameras):
        if camera not in have:
            conn.execute(insert(t.ticket_cameras).values(ticket_id=ticket_id, camera_id=camera))
    linked = set(conn.execute(select(_te.event_id).where(_te.ticket_id == ticket_id)).scalars())
    for event_id in dict.fromkeys(event_ids):
        if event_id not in linked:
            conn.execute(insert(t.ticket_events).values(ticket_id=ticket_id, event_id=event_id))


class SqlTickets:
    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog

    def add(
        self,
        ticket: Ticket,
        history: TicketHistoryEntry,
        event_ids: Sequence[int] = (),
        notifications: Callable[[Ticket], Sequence[NewNotification]] | None = None,
    ) -> Ticket:
        with self._catalog._write() as conn:
            new = conn.execute(insert(t.tickets).values(**_values(ticket))).inserted_primary_key
            assert new is not None
            ticket_id = int(new[0])
            _link(conn, ticket_id, ticket.cameras, event_ids)
            _history(conn, history, ticket_id)
            stored = _ticket(conn.execute(select(t.tickets).where(_t.id == ticket_id)).mappings().one())
            if notifications is not None:
                insert_notifications(conn, notifications(stored))
            return stored

    def update(
        self,
        ticket: Ticket,
        revision: int,
        history: TicketHistoryEntry | Sequence[TicketHistoryEntry],
        notifications: Sequence[NewNotification] = (),
        event_ids: Sequence[int] = (),
    ) -> Ticket:
        """Store ``ticket`` if the stored one is still at ``revision`` (else Conflict)."""
        entries = [history] if isinstance(history, TicketHistoryEntry) else list(history)
        with self._catalog._write() as conn:
            done = conn.execute(
                update(t.tickets).where(_t.id == ticket.id, _t.revision == revision).values(**_values(ticket))
            )
            if not done.rowcount:
                now = conn.execute(select(_t.revision, _t.state).where(_t.id == ticket.id)).first()
                if now is None:
                    raise NotFound(f"no ticket with id {ticket.id}")
                last = conn.execute(
                    select(_th.actor).where(_th.ticket_id == ticket.id).order_by(_th.id.desc()).limit(1)
                ).scalar_one_or_none()
                raise Conflict(
                    f"ticket {ticket.id} was changed meanwhile by {last or 'someone'} (it is {now.state} at revision "
                    f"{now.revision}, you saw {revision}); look again"
                )
            _link(conn, ticket.id, ticket.cameras, event_ids)
            stale = set(conn.execute(select(_tc.camera_id).where(_tc.ticket_id == ticket.id)).scalars())
            gone = stale - set(ticket.cameras)
            if gone:
                conn.execute(delete(t.ticket_cameras).where(_tc.ticket_id == ticket.id, _tc.camera_id.in_(gone)))
            for entry in entries:
                _history(conn, entry, ticket.id)
            insert_notifications(conn, notifications)
        return ticket

    def set_pictures(self, ticket_id: int, good: str, fault: str) -> Ticket:
        """Name the ticket's pictures (a new revision; no history entry: they belong to its opening)."""
        return self._set(ticket_id, good_picture=good, fault_picture=fault)

    def set_note(self, ticket_id: int, note: str) -> Ticket:
        """What Vigil says of the verification under way: not a change anybody must see before acting (the revision
        stays; no history entry)."""
        return self._set(ticket_id, bump=False, verify_note=note)

    def _set(self, ticket_id: int, bump: bool = True, **values: Any) -> Ticket:
        if bump:
            values["revision"] = _t.revision + 1
        with self._catalog._write() as conn:
            done = conn.execute(update(t.tickets).where(_t.id == ticket_id).values(**values))
            if not done.rowcount:
                raise NotFound(f"no ticket with id {ticket_id}")
            return _ticket(conn.execute(select(t.tickets).where(_t.id == ticket_id)).mappings().one())

    def note(self, entry: TicketHistoryEntry) -> None:
        with self._catalog._write() as conn:
            if conn.execute(select(_t.id).where(_t.id == entry.ticket_id)).first() is None:
                raise NotFound(f"no ticket with id {entry.ticket_id}")
            _history(conn, entry, entry.ticket_id)

    def ticket(self, ticket_id: int) -> Ticket | None:
        with self._catalog._read() as conn:
            row = conn.execute(select(t.tickets).where(_t.id == ticket_id)).mappings().first()
            return _ticket(row) if row else None

    def tickets(
        self,
        *,
        states: Sequence[str] | None = None,
        camera_id: str | None = None,
        equipment_ids: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
        vendor: str | None = None,
        assignee: str | None = None,
        opened_from_us: int | None = None,
        opened_until_us: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Ticket]:
        """Tickets newest first, filtered."""
        query = select(t.tickets)
        if states is not None:
            query = query.where(_t.state.in_(list(states)))
        if camera_id is not None:
            query = query.where(_t.id.in_(select(_tc.ticket_id).where(_tc.camera_id == camera_id)))
        if equipment_ids is not None:
            query = query.where(_t.equipment_id.in_(list(equipment_ids)))
        if kinds is not None:
            query = query.where(_t.kind.in_(list(kinds)))
        if vendor is not None:
            query = query.where(_t.vendor == vendor)
        if assignee is not None:
            query = query.where(_t.assignee == assignee)
        if opened_from_us is not None:
            query = query.where(_t.opened_us >= opened_from_us)
        if opened_until_us is not None:
            query = query.where(_t.opened_us < opened_until_us)
        query = query.order_by(_t.id.desc()).limit(limit).offset(offset)
        with self._catalog._read() as conn:
            return [_ticket(r) for r in conn.execute(query).mappings()]

    def unverified(self) -> list[Ticket]:
        """Every ticket not verified yet (being worked, or resolved and being checked), oldest first."""
        query = select(t.tickets).where(_t.state.in_([s.value for s in UNVERIFIED_STATES])).order_by(_t.id)
        with self._catalog._read() as conn:
            return [_ticket(r) for r in conn.execute(query).mappings()]

    def verified(self) -> list[Ticket]:
        query = select(t.tickets).where(_t.state == TicketState.VERIFIED.value).order_by(_t.id)
        with self._catalog._read() as conn:
            return [_ticket(r) for r in conn.execute(query).mappings()]

    def latest(self, equipment_id: str, kind: str) -> Ticket | None:
        """The newest ticket on this equipment of this kind."""
        query = (
            select(t.tickets).where(_t.equipment_id == equipment_id, _t.kind == kind).order_by(_t.id.desc()).limit(1)
        )
        with self._catalog._read() as conn:
            row = conn.execute(query).mappings().first()
            return _ticket(row) if row else None

    def ticket_of_event(self, event_id: int) -> int | None:
        with self._catalog._read() as conn:
            return conn.execute(select(_te.ticket_id).where(_te.event_id == event_id).limit(1)).scalar_one_or_none()

    def linked_events(self, event_ids: Sequence[int]) -> set[int]:
        """Which of these events are linked to a ticket already."""
        if not event_ids:
            return set()
        with self._catalog._read() as conn:
            return set(conn.execute(select(_te.event_id).where(_te.event_id.in_(list(event_ids)))).scalars())

    def event_ids(self, ticket_id: int) -> list[int]:
        with self._catalog._read() as conn:
            return list(
                conn.execute(select(_te.event_id).where(_te.ticket_id == ticket_id).order_by(_te.event_id)).scalars()
            )

    def history(self, ticket_id: int) -> list[TicketHistoryEntry]:
        query = select(t.ticket_history).where(_th.ticket_id == ticket_id).order_by(_th.id)
        with self._catalog._read() as conn:
            return [
                TicketHistoryEntry(r["ticket_id"], r["at_us"], r["actor"], r["change"], r["detail"])
                for r in conn.execute(query).mappings()
            ]

    def open_cameras(self, *, assignee: str | None = None, vendor: str | None = None) -> set[str]:
        """The cameras of tickets not verified yet (given to ``assignee`` or ``vendor`` when named)."""
        query = (
            select(_tc.camera_id)
            .join(t.tickets, _t.id == _tc.ticket_id)
            .where(_t.state.in_([s.value for s in UNVERIFIED_STATES]))
        )
        if assignee is not None and vendor is not None:
            query = query.where((_t.assignee == assignee) | (_t.vendor == vendor))
        elif assignee is not None:
            query = query.where(_t.assignee == assignee)
        elif vendor is not None:
            query = query.where(_t.vendor == vendor)
        with self._catalog._read() as conn:
            return set(conn.execute(query).scalars())

    def count(self, states: Sequence[str] | None = None) -> int:
        query = select(func.count()).select_from(t.tickets)
        if states is not None:
            query = query.where(_t.state.in_(list(states)))
        with self._catalog._read() as conn:
            return int(conn.execute(query).scalar_one())
