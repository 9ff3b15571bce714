"""The alarm desk: what people do with alarms (acknowledge, assign, resolve with an outcome) and with
suppressions (maintenance or a disarmed camera, placed and lifted at run time). Every act is stored with its
history entry and its notifications in one transaction, written to the audit log, and published for the console's
live stream. Who may do it is the API's business (``api.alarm_routes``); this module checks the acts themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from vigil.domain.alarms import (
    Alarm,
    AlarmChange,
    AlarmHistoryEntry,
    Suppression,
    acknowledge,
    assign,
    check_suppression,
    resolve,
)
from vigil.domain.audit import AuditAction
from vigil.domain.errors import InvalidRequest, NotFound
from vigil.ports import AlarmStore, AuditLog, Catalog, Clock
from vigil.usecases.alarm_engine import alarm_notifications
from vigil.usecases.event_bus import AlarmPublished
from vigil.usecases.notifications import Outbox


class AlarmDesk:
    def __init__(
        self,
        store: AlarmStore,
        catalog: Catalog,
        outbox: Outbox,
        audit: AuditLog,
        clock: Clock,
        publish: Callable[[AlarmPublished], None] = lambda _m: None,
        known_user: Callable[[str], bool] = lambda _name: True,
    ) -> None:
        self.store, self.catalog, self.outbox, self.audit, self.clock = store, catalog, outbox, audit, clock
        self.publish = publish
        self.known_user = known_user

    def alarm(self, alarm_id: int) -> Alarm:
        found = self.store.alarm(alarm_id)
        if found is None:
            raise NotFound(f"no alarm with id {alarm_id}")
        return found

    def acknowledge(self, alarm_id: int, by: str, client: str = "") -> Alarm:
        alarm = self.alarm(alarm_id)
        now = self.clock.now_us()
        return self._store(alarm, acknowledge(alarm, by, now), AlarmChange.ACKNOWLEDGED, by, client, {})

    def assign(self, alarm_id: int, to: str, by: str, client: str = "") -> Alarm:
        to = to.strip().lower()
        if not self.known_user(to):
            raise InvalidRequest(f"to: no user named {to!r}")
        alarm = self.alarm(alarm_id)
        now = self.clock.now_us()
        return self._store(alarm, assign(alarm, to, by, now), AlarmChange.ASSIGNED, by, client, {"to": to})

    def resolve(self, alarm_id: int, outcome: str, by: str, note: str = "", client: str = "") -> Alarm:
        alarm = self.alarm(alarm_id)
        now = self.clock.now_us()
        new = resolve(alarm, outcome, by, now, note)
        return self._store(
            alarm, new, AlarmChange.RESOLVED, by, client, {"outcome": outcome, "note": new.resolution_note}
        )

    def _store(self, old: Alarm, new: Alarm, change: str, by: str, client: str, detail: dict[str, Any]) -> Alarm:
        now = new.updated_us
        entry = AlarmHistoryEntry(old.id, now, by, change, detail)
        event = self.catalog.event(old.first_event_id)
        items = alarm_notifications(self.outbox, new, change, new.recipients, event)
        stored = self.store.update(new, old, entry, items)
        if items:
            self.outbox.wake()
        self.audit.append(
            now,
            by,
            AuditAction.ALARM,
            camera_id=old.camera_id,
            client=client,
            reason=str(detail.get("note", "")),
            detail={
                "alarm": old.id,
                "change": change,
                "rule": old.rule,
                **{k: v for k, v in detail.items() if k != "note"},
            },
        )
        self.publish(AlarmPublished(stored, change))
        return stored

    # --- suppressions --------------------------------------------------------------------------------------------
    def suppress(
        self,
        kind: str,
        cameras: Sequence[str],
        start_us: int | None,
        end_us: int | None,
        reason: str,
        by: str,
        client: str = "",
    ) -> Suppression:
        """Suppress the alarms of ``cameras`` (empty: every camera) from ``start_us`` (None: now) until ``end_us``
        (None: until lifted). Alarms raised meanwhile are recorded as suppressed and notify nobody."""
        now = self.clock.now_us()
        start = now if start_us is None else start_us
        ids = tuple(dict.fromkeys(c.strip() for c in cameras))
        check_suppression(kind, ids, start, end_us, reason)
        placed = self.store.add_suppression(Suppression(0, kind, ids, start, end_us, reason.strip(), by, now))
        self.audit.append(
            now,
            by,
            AuditAction.ALARM_SUPPRESSION,
            range_start_us=start,
            range_end_us=end_us,
            client=client,
            reason=placed.reason,
            detail={"suppression": placed.id, "change": "placed", "kind": kind, "cameras": list(ids) or "all"},
        )
        return placed

    def lift(self, suppression_id: int, reason: str, by: str, client: str = "") -> Suppression:
        if not reason.strip():
            raise InvalidRequest("reason: required (it is written to the audit log)")
        now = self.clock.now_us()
        lifted = self.store.lift_suppression(suppression_id, by, now, reason.strip())
        self.audit.append(
            now,
            by,
            AuditAction.ALARM_SUPPRESSION,
            client=client,
            reason=reason.strip(),
            detail={"suppression": suppression_id, "change": "lifted", "cameras": list(lifted.cameras) or "all"},
        )
        return lifted
