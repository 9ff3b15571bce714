"""The in-process event bus: what is recorded as an event is also published, so that later features (alarms,
notifications, live console updates) subscribe instead of polling the catalog.

Publishing calls each subscriber in turn, in the publisher's thread, after the event is in the catalog; a
subscriber that raises is logged and does not stop the others. Subscribers that need to do slow work (send a
webhook) queue it themselves."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from vigil.domain.alarms import Alarm
from vigil.domain.records import EventRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EventPublished:
    record: EventRecord
    change: str  # "opened" (it began), "closed" (it ended), or "recorded" (began and ended at once)


@dataclass(frozen=True, slots=True)
class AlarmPublished:
    alarm: Alarm
    change: str  # vigil.domain.alarms.AlarmChange: raised, folded, acknowledged, escalated ...


M = TypeVar("M")
Subscriber = Callable[[EventPublished], None]


class Bus(Generic[M]):
    """Messages of one kind to whoever subscribed, in the publisher's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[M], None]] = []

    def subscribe(self, subscriber: Callable[[M], None]) -> Callable[[], None]:
        """Start receiving; returns the function that stops it."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, message: M) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(message)
            except Exception:
                log.exception("a subscriber failed on %r", message)


class EventBus(Bus[EventPublished]):
    """Events as they are written (``runtime.PublishingCatalog``)."""


class AlarmBus(Bus[AlarmPublished]):
    """Alarms as they are raised and change (``usecases.alarm_engine``, ``usecases.alarm_desk``)."""
