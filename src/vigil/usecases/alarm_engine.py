"""The alarm engine: events published on the bus become alarms (or fold into the open alarm of their rule and
camera, or are recorded as suppressed), their notifications go through the outbox, and alarms not acknowledged
in time escalate.

One thread (:meth:`AlarmEngine.start`) takes events from a queue the bus subscriber fills (so the drain threads that
publish events never wait for an alarm's write), handles them in the order they were published, and checks the
escalation deadlines at least every ``check_interval_s``. The state is in the catalog, never only in memory: at
start-up :meth:`catch_up` handles events written but not handled before a crash (those after the newest event any
alarm holds, from the last hour), and :meth:`tick` escalates every deadline that passed while Vigil was down.

:meth:`handle` and :meth:`tick` are what the thread calls; tests call them directly with a fake clock.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from vigil.config.models import Config
from vigil.domain.alarm_documents import alarm_body, alarm_title
from vigil.domain.alarms import (
    Alarm,
    AlarmChange,
    AlarmHistoryEntry,
    AlarmRule,
    AlarmState,
    EscalationPolicy,
    MaintenanceWindow,
    Recipients,
    due_steps,
    escalated,
    escalation_due_us,
    fold_target,
    folded,
    matching_rule,
    suppressed_by,
)
from vigil.domain.audit import SYSTEM_ACTOR
from vigil.domain.errors import Conflict, VigilError
from vigil.domain.notifications import NODE_KEY, NewNotification, NotificationKind
from vigil.domain.records import EventRecord
from vigil.domain.timeutil import datetime_from_us
from vigil.ports import AlarmStore, Catalog, Clock
from vigil.usecases.event_bus import AlarmPublished, EventPublished
from vigil.usecases.notifications import Outbox

log = logging.getLogger(__name__)
CATCH_UP_US = 3600 * 1_000_000  # events older than this at start-up are not turned into alarms any more
CATCH_UP_LIMIT = 10_000
RAISING_CHANGES = frozenset({"opened", "recorded"})  # an event ending raises nothing
BATCH_MAX = 200  # events handled in one transaction when they queue up (one fsync for a burst)


@dataclass(frozen=True)
class AlarmSettings:
    """What the engine reads from the configuration in force."""

    rules: tuple[AlarmRule, ...]
    policy: EscalationPolicy
    fold_window_us: int
    windows: tuple[MaintenanceWindow, ...]
    timezone: str
    sites: dict[str, str]  # camera id -> site
    check_interval_s: float = 1.0

    @classmethod
    def of(cls, config: Config) -> AlarmSettings:
        a = config.alarms
        return cls(
            rules=tuple(r.rule() for r in a.rules),
            policy=a.escalation.policy(),
            fold_window_us=int(a.fold_window_s * 1_000_000),
            windows=tuple(m.window() for m in a.maintenance),
            timezone=config.site.timezone,
            sites={c.id: c.site for c in config.cameras},
            check_interval_s=a.check_interval_s,
        )

    def local(self, at_us: int) -> datetime:
        return datetime_from_us(at_us).astimezone(ZoneInfo(self.timezone))


def alarm_notifications(
    outbox: Outbox,
    alarm: Alarm,
    change: str,
    recipients: Recipients,
    event: EventRecord | None,
    step: tuple[int, str] | None = None,
) -> list[NewNotification]:
    """The notifications of one alarm change, one per channel of ``recipients`` (kind ``alarm``: MQTT topic
    ``vigil/alarms``), keyed by the camera so they keep their order with its events' notifications."""
    out = []
    body = alarm_body(alarm, change, outbox.router.site, recipients, event, step)
    for channel in recipients.channels:
        if not outbox.has_channel(channel):  # channels change at a restart; a rule changed since may name a new one
            log.warning(
                "camera=%s: alarm %s: no channel %r running (restart to add it)", alarm.camera_id, alarm.id, channel
            )
            continue
        out.append(outbox.prepare(channel, NotificationKind.ALARM, body, alarm.camera_id or NODE_KEY, event=event))
    return out


class AlarmEngine:
    def __init__(
        self,
        store: AlarmStore,
        catalog: Catalog,
        outbox: Outbox,
        clock: Clock,
        settings: Callable[[], AlarmSettings],
        publish: Callable[[AlarmPublished], None] = lambda _m: None,
    ) -> None:
        self.store, self.catalog, self.outbox, self.clock = store, catalog, outbox, clock
        self.settings = settings  # the settings in force, read at every use
        self.publish = publish
        self._queue: queue.Queue[EventPublished | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()  # handle and tick never run at once (the thread, a test, catch-up)
        self._held: list[AlarmPublished] | None = None  # publications held until a batch commits

    # --- events ------------------------------------------------------------------------------------------------
    def on_event(self, published: EventPublished) -> None:
        """The bus subscriber: queue the event for the engine's thread (never blocks the publisher)."""
        if published.change in RAISING_CHANGES:
            self._queue.put(published)

    def handle(self, event: EventRecord) -> Alarm | None:
        """Turn one event into an alarm, fold it into an open one, or record it suppressed; None when no rule
        matches (or it was handled already)."""
        settings = self.settings()
        site = settings.sites.get(event.camera_id or "", "")
        rule = matching_rule(settings.rules, event, site, settings.local(event.start_us))
        if rule is None:
            return None
        with self._lock:
            if self.store.alarm_of_event(event.id) is not None:
                return None
            now = self.clock.now_us()
            since = event.start_us - settings.fold_window_us
            target = fold_target(
                self.store.fold_candidates(rule.name, event.camera_id, since),
                rule.name,
                event.camera_id,
                event.start_us,
                settings.fold_window_us,
            )
            if target is not None:
                return self._fold(target, event, now)
            return self._raise(rule, event, site, now, settings)

    def _fold(self, alarm: Alarm, event: EventRecord, now: int) -> Alarm:
        new = folded(alarm, event, now)
        entry = AlarmHistoryEntry(alarm.id, now, SYSTEM_ACTOR, AlarmChange.FOLDED, {"event": event.id})
        try:
            stored = self.store.update(new, alarm, entry, event_id=event.id)
        except Conflict:  # acknowledged or resolved meanwhile: fold into what it is now
            current = self.store.alarm(alarm.id)
            if current is None or current.state is AlarmState.RESOLVED:
                raise
            stored = self.store.update(folded(current, event, now), current, entry, event_id=event.id)
        self._publish(AlarmPublished(stored, AlarmChange.FOLDED))
        return stored

    def _raise(self, rule: AlarmRule, event: EventRecord, site: str, now: int, settings: AlarmSettings) -> Alarm:
        camera_name = self.outbox.router.site.camera_names.get(event.camera_id or "", event.camera_id or "")
        why = suppressed_by(
            self.store.suppressions(active_at_us=event.start_us),
            settings.windows,
            event.camera_id,
            event.start_us,
            settings.local(event.start_us),
        )
        alarm = Alarm(
            id=0,
            rule=rule.name,
            priority=rule.priority,
            camera_id=event.camera_id,
            site=site,
            state=AlarmState.SUPPRESSED if why else AlarmState.NEW,
            title=alarm_title(rule.name, rule.priority, camera_name),
            text=event.description,
            first_event_id=event.id,
            last_event_id=event.id,
            event_count=1,
            created_us=now,
            updated_us=now,
            last_event_us=event.start_us,
            next_escalation_us=None if why else escalation_due_us(now, 0, rule.priority, settings.policy),
            suppressed_by=why,
            recipients=rule.recipients,
        )
        change = AlarmChange.SUPPRESSED if why else AlarmChange.RAISED
        detail = {"event": event.id, "rule": rule.name, **({"by": why} if why else {})}
        if why:
            stored = self.store.add(alarm, AlarmHistoryEntry(0, now, SYSTEM_ACTOR, change, detail))
            log.info("camera=%s: alarm %s suppressed (%s)", event.camera_id, stored.id, why)
        else:
            # the notifications are made of the stored row (they carry its id) in the alarm's own transaction
            stored = self._add_with_notifications(alarm, AlarmHistoryEntry(0, now, SYSTEM_ACTOR, change, detail), event)
        self._publish(AlarmPublished(stored, change))
        return stored

    def _add_with_notifications(self, alarm: Alarm, entry: AlarmHistoryEntry, event: EventRecord) -> Alarm:
        def notices(stored: Alarm) -> list[NewNotification]:
            return alarm_notifications(self.outbox, stored, AlarmChange.RAISED, stored.recipients, event)

        stored = self.store.add(alarm, entry, notices)
        if self._held is None:
            self.outbox.wake()
        return stored

    def _publish(self, message: AlarmPublished) -> None:
        if self._held is not None:
            self._held.append(message)
        else:
            self.publish(message)

    def handle_batch(self, events: Sequence[EventRecord]) -> None:
        """Handle events in one transaction (a burst costs one commit); what they publish and the dispatchers'
        wake-up come after the commit. When the batch fails, each event is tried alone."""
        if len(events) == 1:
            self._handle_safely(events[0])
            return
        with self._lock:
            self._held = []
            try:
                with self.store.batch():
                    for event in events:
                        self.handle(event)
                held = self._held
            except Exception:
                log.exception("alarm engine: a batch of %d events failed; handling them one by one", len(events))
                held = None
            finally:
                self._held = None
        if held is None:
            for event in events:
                self._handle_safely(event)
            return
        self.outbox.wake()
        for message in held:
            self.publish(message)

    # --- escalation ----------------------------------------------------------------------------------------------
    def tick(self) -> list[Alarm]:
        """Escalate every new alarm whose deadline has passed (each missed step in turn); the alarms escalated."""
        settings = self.settings()
        out = []
        with self._lock:
            now = self.clock.now_us()
            for alarm in self.store.due(now):
                steps = due_steps(alarm, settings.policy, now)
                if not steps:  # the policy changed: no step is due any more
                    continue
                try:
                    out.append(self._escalate(alarm, steps, settings, now))
                except Conflict:
                    continue  # acknowledged meanwhile
        return out

    def _escalate(self, alarm: Alarm, steps: Sequence[int], settings: AlarmSettings, now: int) -> Alarm:
        event = self.catalog.event(alarm.first_event_id)
        current = alarm
        for step in steps:
            policy_step = settings.policy.steps[step]
            new = escalated(current, step, settings.policy, now)
            items = alarm_notifications(
                self.outbox, new, AlarmChange.ESCALATED, policy_step.recipients, event, (step, policy_step.name)
            )
            detail = {"step": step + 1, "name": policy_step.name, **policy_step.recipients.as_dict()}
            entry = AlarmHistoryEntry(alarm.id, now, SYSTEM_ACTOR, AlarmChange.ESCALATED, detail)
            current = self.store.update(new, current, entry, items)
            log.info(
                "camera=%s: alarm %s not acknowledged: escalated to %s", alarm.camera_id, alarm.id, policy_step.name
            )
        self.outbox.wake()
        self.publish(AlarmPublished(current, AlarmChange.ESCALATED))
        return current

    # --- start-up and the thread ---------------------------------------------------------------------------------
    def catch_up(self) -> int:
        """Handle the events of the last hour written after the newest event any alarm holds (a crash between an
        event's write and its alarm's); how many alarms that raised or fed."""
        newest = self.store.newest_linked_event_id()
        since = self.clock.now_us() - CATCH_UP_US
        events = [e for e in self.catalog.events(start_us=since, limit=CATCH_UP_LIMIT) if e.id > newest]
        done = 0
        for event in sorted(events, key=lambda e: e.id):
            try:
                done += self.handle(event) is not None
            except VigilError:
                log.exception("camera=%s: event %s: no alarm made at start-up", event.camera_id, event.id)
        return done

    def start(self) -> None:
        caught = self.catch_up()
        escalated_now = self.tick()
        if caught or escalated_now:
            log.info("alarms at start-up: %d from events left over, %d escalated", caught, len(escalated_now))
        self._thread = threading.Thread(target=self._run, name="alarm-engine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)
        while not self._queue.empty():  # what was published before the stop is still handled
            item = self._queue.get_nowait()
            if item is not None:
                self._handle_safely(item.record)

    def _wait_s(self) -> float:
        interval = self.settings().check_interval_s
        due = self.store.next_due_us()
        if due is None:
            return interval
        return min(interval, max(0.0, (due - self.clock.now_us()) / 1e6))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._queue.get(timeout=self._wait_s())
            except queue.Empty:
                item = None
            except VigilError:
                log.exception("alarm engine: reading the next deadline failed")
                self._stop.wait(1.0)
                continue
            if item is not None:
                batch = [item.record]
                while len(batch) < BATCH_MAX:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        break
                    batch.append(more.record)
                self.handle_batch(batch)
            try:
                self.tick()
            except Exception:
                log.exception("alarm engine: escalation failed; trying again")
                self._stop.wait(1.0)

    def _handle_safely(self, event: EventRecord) -> None:
        try:
            self.handle(event)
        except Exception:
            log.exception("camera=%s: event %s: no alarm made (a restart catches it up)", event.camera_id, event.id)
