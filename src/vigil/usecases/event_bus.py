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

from vigil.domain.records import EventRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EventPublished:
    record: EventRecord
    change: str  # "opened" (it began), "closed" (it ended), or "recorded" (began and ended at once)


Subscriber = Callable[[EventPublished], None]


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Start receiving; returns the function that stops it."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def publish(self, message: EventPublished) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            try:
                subscriber(message)
            except Exception:
                log.exception("an event subscriber failed on event %s", message.record.id)
