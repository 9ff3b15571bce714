"""Alarms in the catalog's database (tables of migration 0011): ``SqlAlarms`` is the :class:`vigil.ports.AlarmStore`.

It shares the catalog's engine and its one writer lock. An alarm's row, its history entry, the event linked to it
and the notifications it sends are written in one transaction (``storage.outbox.insert_notifications``), so a crash
loses all of them or none. Updates are compare-and-set on the state and the update time: two people acknowledging
the same alarm at once, or an acknowledgement racing an escalation, cannot both win.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, or_, select, update

from vigil.domain.alarms import Alarm, AlarmHistoryEntry, AlarmState, Recipients, Suppression
from vigil.domain.errors import Conflict, NotFound
from vigil.domain.notifications import NewNotification
from vigil.storage import schema as t
from vigil.storage.catalog import SqlCatalog
from vigil.storage.outbox import insert_notifications

_a = t.alarms.c
_s = t.alarm_suppressions.c
FIELDS = [c.name for c in t.alarms.c if c.name not in ("id", "recipients")]


def _alarm(row: RowMapping) -> Alarm:
    values: dict[str, Any] = {name: row[name] for name in FIELDS}
    values["state"] = AlarmState(values["state"])
    r = row["recipients"] or {}
    recipients = Recipients(tuple(r.get("channels", ())), tuple(r.get("users", ())), tuple(r.get("roles", ())))
    return Alarm(id=row["id"], recipients=recipients, **values)


def _values(alarm: Alarm) -> dict[str, Any]:
    values = {name: getattr(alarm, name) for name in FIELDS}
    values["state"] = alarm.state.value
    values["recipients"] = alarm.recipients.as_dict()
    return values


def _suppression(row: RowMapping) -> Suppression:
    return Suppression(**{**row, "cameras": tuple(row["cameras"] or ())})


def _history(conn: Connection, entry: AlarmHistoryEntry, alarm_id: int) -> None:
    conn.execute(
        insert(t.alarm_history).values(
            alarm_id=alarm_id, at_us=entry.at_us, actor=entry.actor, change=str(entry.change), detail=dict(entry.detail)
        )
    )


class SqlAlarms:
    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog
        self._local = threading.local()  # the batch's connection, in the thread that opened it

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Every write (and read) of this thread inside is one transaction, committed at the end (one fsync for a
        burst of alarms); the catalog's writer lock is held meanwhile. An error rolls all of it back."""
        with self._catalog._write() as conn:
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with self._catalog._write() as fresh:
            yield fresh

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with self._catalog._read() as fresh:
            yield fresh

    # --- alarms ------------------------------------------------------------------------------------------------
    def add(
        self,
        alarm: Alarm,
        history: AlarmHistoryEntry,
        notifications: Callable[[Alarm], Sequence[NewNotification]] | None = None,
    ) -> Alarm:
        with self._writing() as conn:
            new = conn.execute(insert(t.alarms).values(**_values(alarm))).inserted_primary_key
            assert new is not None
            alarm_id = int(new[0])
            conn.execute(insert(t.alarm_events).values(alarm_id=alarm_id, event_id=alarm.first_event_id))
            _history(conn, history, alarm_id)
            stored = _alarm(conn.execute(select(t.alarms).where(_a.id == alarm_id)).mappings().one())
            if notifications is not None:
                insert_notifications(conn, notifications(stored))
            return stored

    def update(
        self,
        alarm: Alarm,
        previous: Alarm,
        history: AlarmHistoryEntry,
        notifications: Sequence[NewNotification] = (),
        event_id: int | None = None,
    ) -> Alarm:
        with self._writing() as conn:
            done = conn.execute(
                update(t.alarms)
                .where(_a.id == alarm.id, _a.state == previous.state.value, _a.updated_us == previous.updated_us)
                .values(**_values(alarm))
            )
            if not done.rowcount:
                now = conn.execute(select(t.alarms).where(_a.id == alarm.id)).mappings().first()
                if now is None:
                    raise NotFound(f"no alarm with id {alarm.id}")
                raise Conflict(f"alarm {alarm.id} was changed meanwhile (it is {now['state']} now); look again")
            if event_id is not None:
                conn.execute(insert(t.alarm_events).values(alarm_id=alarm.id, event_id=event_id))
            _history(conn, history, alarm.id)
            insert_notifications(conn, notifications)
        return alarm

    def alarm(self, alarm_id: int) -> Alarm | None:
        with self._reading() as conn:
            row = conn.execute(select(t.alarms).where(_a.id == alarm_id)).mappings().first()
            return _alarm(row) if row else None

    def alarms(
        self,
        *,
        states: Sequence[str] | None = None,
        camera_ids: Sequence[str] | None = None,
        include_node: bool = True,
        queue: bool = False,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Alarm]:
        query = select(t.alarms)
        if states is not None:
            query = query.where(_a.state.in_(list(states)))
        if camera_ids is not None:
            where = _a.camera_id.in_(list(camera_ids))
            query = query.where(or_(where, _a.camera_id.is_(None)) if include_node else where)
        elif not include_node:
            query = query.where(_a.camera_id.is_not(None))
        order = (_a.priority, _a.created_us, _a.id) if queue else (_a.created_us.desc(), _a.id.desc())
        with self._reading() as conn:
            rows = conn.execute(query.order_by(*order).limit(limit).offset(offset)).mappings()
            return [_alarm(r) for r in rows]

    def fold_candidates(self, rule: str, camera_id: str | None, since_us: int) -> list[Alarm]:
        camera = _a.camera_id.is_(None) if camera_id is None else _a.camera_id == camera_id
        query = select(t.alarms).where(
            _a.rule == rule, camera, _a.state != AlarmState.RESOLVED.value, _a.last_event_us >= since_us
        )
        with self._reading() as conn:
            return [_alarm(r) for r in conn.execute(query.order_by(_a.id)).mappings()]

    def due(self, now_us: int) -> list[Alarm]:
        query = (
            select(t.alarms)
            .where(_a.next_escalation_us <= now_us, _a.state == AlarmState.NEW.value)
            .order_by(_a.next_escalation_us, _a.id)
        )
        with self._reading() as conn:
            return [_alarm(r) for r in conn.execute(query).mappings()]

    def next_due_us(self) -> int | None:
        query = select(func.min(_a.next_escalation_us)).where(_a.state == AlarmState.NEW.value)
        with self._reading() as conn:
            value = conn.execute(query).scalar()
            return int(value) if value is not None else None

    def history(self, alarm_id: int) -> list[AlarmHistoryEntry]:
        h = t.alarm_history.c
        with self._reading() as conn:
            rows = conn.execute(select(t.alarm_history).where(h.alarm_id == alarm_id).order_by(h.id)).mappings()
            return [AlarmHistoryEntry(r["alarm_id"], r["at_us"], r["actor"], r["change"], r["detail"]) for r in rows]

    def event_ids(self, alarm_id: int) -> list[int]:
        e = t.alarm_events.c
        with self._reading() as conn:
            return list(conn.execute(select(e.event_id).where(e.alarm_id == alarm_id).order_by(e.event_id)).scalars())

    def alarm_of_event(self, event_id: int) -> int | None:
        e = t.alarm_events.c
        with self._reading() as conn:
            found = conn.execute(select(e.alarm_id).where(e.event_id == event_id).limit(1)).scalar()
            return int(found) if found is not None else None

    def newest_linked_event_id(self) -> int:
        with self._reading() as conn:
            return int(conn.execute(select(func.coalesce(func.max(t.alarm_events.c.event_id), 0))).scalar_one())

    # --- suppressions ------------------------------------------------------------------------------------------
    def add_suppression(self, suppression: Suppression) -> Suppression:
        values = {
            "kind": suppression.kind,
            "cameras": list(suppression.cameras),
            "start_us": suppression.start_us,
            "end_us": suppression.end_us,
            "reason": suppression.reason,
            "placed_by": suppression.placed_by,
            "placed_us": suppression.placed_us,
            "ticket_id": suppression.ticket_id,
        }
        with self._writing() as conn:
            new = conn.execute(insert(t.alarm_suppressions).values(**values)).inserted_primary_key
            assert new is not None
            row = conn.execute(select(t.alarm_suppressions).where(_s.id == int(new[0]))).mappings().one()
            return _suppression(row)

    def lift_suppression(self, suppression_id: int, by: str, at_us: int, reason: str) -> Suppression:
        with self._writing() as conn:
            row = conn.execute(select(t.alarm_suppressions).where(_s.id == suppression_id)).mappings().first()
            if row is None:
                raise NotFound(f"no suppression with id {suppression_id}")
            if row["lifted_us"] is not None:
                raise Conflict(f"suppression {suppression_id} was lifted already by {row['lifted_by']}")
            if row["end_us"] is not None and row["end_us"] <= at_us:
                raise Conflict(f"suppression {suppression_id} has ended already")
            conn.execute(
                update(t.alarm_suppressions)
                .where(_s.id == suppression_id)
                .values(lifted_by=by, lifted_us=at_us, lift_reason=reason)
            )
            return _suppression(
                conn.execute(select(t.alarm_suppressions).where(_s.id == suppression_id)).mappings().one()
            )

    def suppression(self, suppression_id: int) -> Suppression | None:
        with self._reading() as conn:
            row = conn.execute(select(t.alarm_suppressions).where(_s.id == suppression_id)).mappings().first()
            return _suppression(row) if row else None

    def suppressions(self, *, active_at_us: int | None = None, limit: int = 100, offset: int = 0) -> list[Suppression]:
        query = select(t.alarm_suppressions)
        if active_at_us is not None:
            query = query.where(_s.lifted_us.is_(None), or_(_s.end_us.is_(None), _s.end_us > active_at_us))
        with self._reading() as conn:
            rows = conn.execute(query.order_by(_s.id.desc()).limit(limit).offset(offset)).mappings()
            return [_suppression(r) for r in rows]
