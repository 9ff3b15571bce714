"""Incidents in the catalog's database (tables of migration 0011): ``SqlIncidents`` is the
:class:`vigil.ports.IncidentStore`. Every change is one transaction with its history entry; notes are append-only
(triggers refuse UPDATE and DELETE), a checklist step is ticked once (its primary key)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from vigil.domain.errors import Conflict, NotFound
from vigil.domain.incidents import (
    Incident,
    IncidentHistoryEntry,
    IncidentItem,
    IncidentState,
    ItemKind,
    Note,
    StepTick,
)
from vigil.domain.plans import steps_of
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog

_i = t.incidents.c
FIELDS = [c.name for c in t.incidents.c if c.name not in ("id", "state", "assigned", "steps")]


def _incident(row: RowMapping) -> Incident:
    values: dict[str, Any] = {name: row[name] for name in FIELDS}
    return Incident(
        id=row["id"],
        state=IncidentState(row["state"]),
        assigned=tuple(row["assigned"] or ()),
        steps=steps_of(row["steps"] or []),
        **values,
    )


def _values(incident: Incident) -> dict[str, Any]:
    values = {name: getattr(incident, name) for name in FIELDS}
    values["state"] = incident.state.value
    values["assigned"] = list(incident.assigned)
    values["steps"] = [s.as_dict() for s in incident.steps]
    return values


def _history(conn: Connection, entry: IncidentHistoryEntry, incident_id: int) -> None:
    conn.execute(
        insert(t.incident_history).values(
            incident_id=incident_id,
            at_us=entry.at_us,
            actor=entry.actor,
            change=str(entry.change),
            detail=dict(entry.detail),
        )
    )


def _first_action(conn: Connection, incident_id: int, at_us: int | None) -> None:
    if at_us is None:
        return
    conn.execute(
        update(t.incidents)
        .where(_i.id == incident_id, _i.first_action_us.is_(None))
        .values(first_action_us=at_us, updated_us=at_us)
    )


class SqlIncidents:
    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog

    def add(self, incident: Incident, items: Sequence[IncidentItem], history: IncidentHistoryEntry) -> Incident:
        with self._catalog._write() as conn:
            new = conn.execute(insert(t.incidents).values(**_values(incident))).inserted_primary_key
            assert new is not None
            incident_id = int(new[0])
            self._link(conn, incident_id, items)
            _history(conn, history, incident_id)
            return _incident(conn.execute(select(t.incidents).where(_i.id == incident_id)).mappings().one())

    def update(self, incident: Incident, history: IncidentHistoryEntry) -> Incident:
        with self._catalog._write() as conn:
            done = conn.execute(update(t.incidents).where(_i.id == incident.id).values(**_values(incident)))
            if not done.rowcount:
                raise NotFound(f"no incident with id {incident.id}")
            _history(conn, history, incident.id)
        return incident

    def incident(self, incident_id: int) -> Incident | None:
        with self._catalog._read() as conn:
            row = conn.execute(select(t.incidents).where(_i.id == incident_id)).mappings().first()
            return _incident(row) if row else None

    def incidents(self, *, state: str | None = None, limit: int = 100, offset: int = 0) -> list[Incident]:
        query = select(t.incidents)
        if state is not None:
            query = query.where(_i.state == state)
        with self._catalog._read() as conn:
            rows = conn.execute(query.order_by(_i.opened_us.desc(), _i.id.desc()).limit(limit).offset(offset))
            return [_incident(r) for r in rows.mappings()]

    def add_items(self, incident_id: int, items: Sequence[IncidentItem], history: IncidentHistoryEntry) -> int:
        with self._catalog._write() as conn:
            if conn.execute(select(_i.id).where(_i.id == incident_id)).first() is None:
                raise NotFound(f"no incident with id {incident_id}")
            added = self._link(conn, incident_id, items)
            if added:
                _history(conn, history, incident_id)
            return added

    @staticmethod
    def _link(conn: Connection, incident_id: int, items: Sequence[IncidentItem]) -> int:
        c = t.incident_items.c
        added = 0
        for item in items:
            there = conn.execute(
                select(c.ref).where(c.incident_id == incident_id, c.kind == item.kind, c.ref == item.ref)
            ).first()
            if there is not None:
                continue
            conn.execute(
                insert(t.incident_items).values(
                    incident_id=incident_id,
                    kind=item.kind,
                    ref=item.ref,
                    added_by=item.added_by,
                    added_us=item.added_us,
                )
            )
            if item.kind == ItemKind.ALARM:
                conn.execute(update(t.alarms).where(t.alarms.c.id == int(item.ref)).values(incident_id=incident_id))
            added += 1
        return added

    def items(self, incident_id: int) -> list[IncidentItem]:
        c = t.incident_items.c
        with self._catalog._read() as conn:
            rows = conn.execute(
                select(t.incident_items).where(c.incident_id == incident_id).order_by(c.added_us, c.kind, c.ref)
            ).mappings()
            return [IncidentItem(**r) for r in rows]

    def add_note(self, note: Note, first_action_us: int | None) -> Note:
        with self._catalog._write() as conn:
            new = conn.execute(
                insert(t.incident_notes).values(
                    incident_id=note.incident_id,
                    at_us=note.at_us,
                    author=note.author,
                    text=note.text,
                    corrects=note.corrects,
                )
            ).inserted_primary_key
            assert new is not None
            stored = Note(int(new[0]), note.incident_id, note.at_us, note.author, note.text, note.corrects)
            detail = {"note": stored.id, **({"corrects": note.corrects} if note.corrects is not None else {})}
            _history(
                conn, IncidentHistoryEntry(note.incident_id, note.at_us, note.author, "note", detail), note.incident_id
            )
            _first_action(conn, note.incident_id, first_action_us)
            return stored

    def notes(self, incident_id: int) -> list[Note]:
        c = t.incident_notes.c
        with self._catalog._read() as conn:
            rows = conn.execute(select(t.incident_notes).where(c.incident_id == incident_id).order_by(c.id)).mappings()
            return [Note(**r) for r in rows]

    def tick(self, tick: StepTick, first_action_us: int | None) -> StepTick:
        c = t.incident_steps.c
        with self._catalog._write() as conn:
            there = conn.execute(select(c.by).where(c.incident_id == tick.incident_id, c.step == tick.step)).scalar()
            if there is not None:
                raise Conflict(f"step {tick.step + 1} of incident {tick.incident_id} was ticked already by {there}")
            conn.execute(
                insert(t.incident_steps).values(
                    incident_id=tick.incident_id,
                    step=tick.step,
                    status=tick.status,
                    by=tick.by,
                    at_us=tick.at_us,
                    note=tick.note,
                )
            )
            detail = {"step": tick.step + 1, "status": tick.status, "note": tick.note}
            entry = IncidentHistoryEntry(tick.incident_id, tick.at_us, tick.by, "step", detail)
            _history(conn, entry, tick.incident_id)
            _first_action(conn, tick.incident_id, first_action_us)
        return tick

    def ticks(self, incident_id: int) -> list[StepTick]:
        c = t.incident_steps.c
        with self._catalog._read() as conn:
            rows = conn.execute(select(t.incident_steps).where(c.incident_id == incident_id).order_by(c.step))
            return [StepTick(**r) for r in rows.mappings()]

    def history(self, incident_id: int) -> list[IncidentHistoryEntry]:
        c = t.incident_history.c
        with self._catalog._read() as conn:
            rows = conn.execute(select(t.incident_history).where(c.incident_id == incident_id).order_by(c.id))
            return [
                IncidentHistoryEntry(r["incident_id"], r["at_us"], r["actor"], r["change"], r["detail"])
                for r in rows.mappings()
            ]

    def count(self) -> int:
        with self._catalog._read() as conn:
            return int(conn.execute(select(func.count()).select_from(t.incidents)).scalar_one())
