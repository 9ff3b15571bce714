"""The notification outbox in the catalog's database (tables ``notifications`` and ``notification_attempts``,
migration 0008).

``SqlOutbox(catalog)`` shares the catalog's engine and its one writer lock, like the audit log. Notifications
about events are written by :func:`outbox_hook` inside the very transaction that writes the event (the catalog
calls it), so an event and its notifications are committed together or not at all: a crash can lose neither
one without the other. Other notifications (the alarm engine's) go through :meth:`SqlOutbox.add`.

Delivery reads each key's oldest pending notification of a channel (:meth:`SqlOutbox.heads`, along the index
``ix_notifications_heads``) and records every attempt with its result in one transaction
(:meth:`SqlOutbox.record_attempt`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from vigil.domain.errors import NotFound
from vigil.domain.notifications import (
    Attempt,
    NewNotification,
    Notification,
    NotificationState,
    Outcome,
)
from vigil.domain.records import EventRecord
from vigil.storage import schema as t
from vigil.storage.catalog import EventHook, SqlCatalog, event_of

log = logging.getLogger(__name__)

# (the event just written, what happened to it) -> the notifications to store with it
EventRouter = Callable[[EventRecord, str], Sequence[NewNotification]]

_n = t.notifications.c
_a = t.notification_attempts.c
SUMMARY = [c for c in t.notifications.c if c.name != "payload"]
ID_CHUNK = 500


def insert_notifications(conn: Connection, items: Sequence[NewNotification]) -> None:
    """Store notifications, pending and due now, in the caller's transaction."""
    if not items:
        return
    conn.execute(
        insert(t.notifications),
        [
            {
                "id": n.id,
                "channel": n.channel,
                "kind": n.kind,
                "key": n.key,
                "event_id": n.event_id,
                "content_type": n.content_type,
                "payload": n.payload,
                "payload_bytes": len(n.payload),
                "payload_sha256": hashlib.sha256(n.payload).hexdigest(),
                "created_us": n.created_us,
                "expires_us": n.expires_us,
                "state": NotificationState.PENDING.value,
                "attempts": 0,
                "next_attempt_us": n.created_us,
                "finished_us": None,
                "last_error": "",
            }
            for n in items
        ],
    )


def outbox_hook(route: EventRouter) -> EventHook:
    """The catalog's event hook that stores the notifications ``route`` makes of each event, in the event's own
    transaction. When ``route`` raises (a bug), the event is still written and the failure logged."""

    def hook(conn: Connection, event_id: int, change: str) -> None:
        row = conn.execute(select(t.events).where(t.events.c.id == event_id)).mappings().first()
        if row is None:
            return
        record = event_of(row)
        try:
            items = route(record, change)
        except Exception:
            log.exception("camera=%s: no notification made of event %s (%s)", record.camera_id, event_id, change)
            return
        insert_notifications(conn, items)

    return hook


def _notification(row: RowMapping) -> Notification:
    values: dict[str, Any] = {c.name: row[c.name] for c in SUMMARY}
    return Notification(**values, payload=row.get("payload"))


def _state_after(outcome: str) -> NotificationState:
    return {
        Outcome.DELIVERED: NotificationState.DELIVERED,
        Outcome.FAILED: NotificationState.FAILED,
    }.get(Outcome(outcome), NotificationState.PENDING)


class SqlOutbox:
    """The ``OutboxStore`` port on the catalog's database."""

    def __init__(self, catalog: SqlCatalog) -> None:
        self._catalog = catalog

    def add(self, items: Sequence[NewNotification]) -> None:
        with self._catalog._write() as conn:
            insert_notifications(conn, items)

    def heads(self, channel: str) -> list[Notification]:
        """Each key's oldest pending notification on ``channel`` (with its payload), oldest first."""
        firsts = (
            select(func.min(_n.seq))
            .where(_n.channel == channel, _n.state == NotificationState.PENDING.value)
            .group_by(_n.key)
        )
        with self._catalog._read() as conn:
            seqs = list(conn.execute(firsts).scalars())
            rows: list[Notification] = []
            for at in range(0, len(seqs), ID_CHUNK):
                query = select(t.notifications).where(_n.seq.in_(seqs[at : at + ID_CHUNK]))
                rows += [_notification(r) for r in conn.execute(query).mappings()]
        return sorted(rows, key=lambda n: n.seq)

    def next_pending(self, channel: str, key: str, after_seq: int) -> Notification | None:
        """The key's next pending notification on ``channel`` after ``after_seq`` (with its payload)."""
        query = (
            select(t.notifications)
            .where(_n.channel == channel, _n.state == NotificationState.PENDING.value, _n.key == key)
            .where(_n.seq > after_seq)
            .order_by(_n.seq)
            .limit(1)
        )
        with self._catalog._read() as conn:
            row = conn.execute(query).mappings().first()
            return _notification(row) if row else None

    def record_attempt(self, seq: int, attempt: Attempt, next_attempt_us: int) -> None:
        """Write one attempt and move its notification on: delivered, failed, or still pending until
        ``next_attempt_us``."""
        self.record_attempts([(seq, attempt, next_attempt_us)])

    def record_attempts(self, items: Sequence[tuple[int, Attempt, int]]) -> None:
        """:meth:`record_attempt` for several notifications, in one transaction."""
        with self._catalog._write() as conn:
            for seq, attempt, next_attempt_us in items:
                state = _state_after(attempt.outcome)
                conn.execute(
                    insert(t.notification_attempts).values(
                        notification_seq=seq,
                        at_us=attempt.at_us,
                        duration_ms=round(attempt.duration_ms, 3),
                        outcome=str(attempt.outcome),
                        status=attempt.status,
                        error=attempt.error,
                    )
                )
                conn.execute(
                    update(t.notifications)
                    .where(_n.seq == seq)
                    .values(
                        state=state.value,
                        attempts=_n.attempts + 1,
                        next_attempt_us=next_attempt_us,
                        finished_us=attempt.at_us if state != NotificationState.PENDING else None,
                        last_error=attempt.error,
                    )
                )

    def expire(self, now_us: int, channel: str | None = None) -> int:
        """Mark every pending notification whose time is up as expired; how many."""
        query = update(t.notifications).where(_n.state == NotificationState.PENDING.value, _n.expires_us <= now_us)
        if channel is not None:
            query = query.where(_n.channel == channel)
        with self._catalog._write() as conn:
            done = conn.execute(
                query.values(
                    state=NotificationState.EXPIRED.value,
                    finished_us=now_us,
                    last_error=func.coalesce(func.nullif(_n.last_error, ""), "not delivered in time"),
                )
            )
            return int(done.rowcount or 0)

    def notification(self, notification_id: str) -> Notification | None:
        with self._catalog._read() as conn:
            row = conn.execute(select(t.notifications).where(_n.id == notification_id)).mappings().first()
            return _notification(row) if row else None

    def notifications(
        self,
        *,
        state: str | None = None,
        channel: str | None = None,
        key: str | None = None,
        event_id: int | None = None,
        limit: int = 100,
        before_seq: int | None = None,
    ) -> list[Notification]:
        """Newest first, without payloads; ``before_seq`` for the next page."""
        query = select(*SUMMARY)
        for column, value in ((_n.state, state), (_n.channel, channel), (_n.key, key), (_n.event_id, event_id)):
            if value is not None:
                query = query.where(column == value)
        if before_seq is not None:
            query = query.where(_n.seq < before_seq)
        with self._catalog._read() as conn:
            rows = conn.execute(query.order_by(_n.seq.desc()).limit(limit)).mappings()
            return [_notification(r) for r in rows]

    def attempts(self, seqs: Sequence[int]) -> dict[int, list[Attempt]]:
        """The attempts of these notifications, oldest first."""
        out: dict[int, list[Attempt]] = {seq: [] for seq in seqs}
        wanted = sorted(set(seqs))
        with self._catalog._read() as conn:
            for at in range(0, len(wanted), ID_CHUNK):
                query = (
                    select(t.notification_attempts)
                    .where(_a.notification_seq.in_(wanted[at : at + ID_CHUNK]))
                    .order_by(_a.notification_seq, _a.id)
                )
                for r in conn.execute(query).mappings():
                    out[r["notification_seq"]].append(
                        Attempt(r["at_us"], r["outcome"], r["duration_ms"], r["status"], r["error"])
                    )
        return out

    def retry(self, notification_id: str, now_us: int, expires_us: int) -> Notification:
        """Put a notification back to pending, due now, expiring no sooner than ``expires_us``. NotFound when
        there is no such notification."""
        with self._catalog._write() as conn:
            row = conn.execute(select(*SUMMARY).where(_n.id == notification_id)).mappings().first()
            if row is None:
                raise NotFound(f"no notification with id {notification_id}")
            conn.execute(
                update(t.notifications)
                .where(_n.seq == row["seq"])
                .values(
                    state=NotificationState.PENDING.value,
                    next_attempt_us=now_us,
                    finished_us=None,
                    expires_us=max(row["expires_us"], expires_us),
                )
            )
        found = self.notification(notification_id)
        assert found is not None
        return found

    def prune(self, finished_before_us: int) -> int:
        """Remove the notifications (and their attempts) finished before this time; how many."""
        old = select(_n.seq).where(_n.state != NotificationState.PENDING.value, _n.finished_us < finished_before_us)
        with self._catalog._write() as conn:
            conn.execute(delete(t.notification_attempts).where(_a.notification_seq.in_(old)))
            gone = conn.execute(delete(t.notifications).where(_n.seq.in_(old)))
            return int(gone.rowcount or 0)
