"""Notifications: which ones an event makes (:class:`NotificationRouter`, called inside the event's own
transaction), and the outbox as the rest of Vigil uses it (:class:`Outbox`: enqueue, look, retry).

Every notification is rendered once, when it is made, into the exact bytes its channel sends (a JSON document
for webhooks and MQTT, a whole e-mail message for e-mail), so a retry after a restart sends the same bytes with
the same id. The alarm engine enqueues through :meth:`Outbox.enqueue`::

    outbox.enqueue("ops-mqtt", NotificationKind.ALARM, {"title": ..., "text": ..., "alarm": {...}}, key=camera_id)
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vigil.domain.errors import InvalidRequest, NotFound
from vigil.domain.notifications import (
    DOCUMENT_VERSION,
    NODE_KEY,
    Attempt,
    NewNotification,
    Notification,
    NotificationKind,
    NotificationState,
    Route,
    Site,
    camera_state,
    event_document,
    routed_channels,
    status_document,
)
from vigil.domain.records import EventRecord
from vigil.domain.timeutil import iso_from_us
from vigil.ports import Clock, OutboxStore

log = logging.getLogger(__name__)

# (the document, the snapshot JPEG when the channel wants one and the event has one) -> the bytes sent
PayloadRender = Callable[[Mapping[str, Any], bytes | None], bytes]
DEFAULT_EXPIRY_S = 86400.0


@dataclass(frozen=True)
class ChannelPlan:
    """What the router needs to know of a channel."""

    name: str
    kind: str  # webhook | mqtt | email
    content_type: str
    render: PayloadRender
    expire_after_s: float = DEFAULT_EXPIRY_S
    camera_status: bool = False  # also gets every camera's online/offline changes (MQTT)
    wants_snapshot: bool = False  # render is given the event's snapshot (e-mail)


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class NotificationRouter:
    """Makes the notifications of one event: one per channel its routes name, plus the camera-status ones."""

    channels: Sequence[ChannelPlan]
    routes: Sequence[Route]
    site: Site
    clock: Clock
    snapshot: Callable[[str], bytes | None] = field(default=lambda _relpath: None)  # an event's snapshot JPEG
    make_id: Callable[[], str] = new_id

    def __post_init__(self) -> None:
        self._plans = {plan.name: plan for plan in self.channels}

    def plan(self, name: str) -> ChannelPlan | None:
        return self._plans.get(name)

    def __call__(self, record: EventRecord, change: str) -> list[NewNotification]:
        now = self.clock.now_us()
        out: list[NewNotification] = []
        for name in routed_channels(self.routes, record, change):
            plan = self._plans.get(name)
            if plan is None:
                continue
            nid = self.make_id()
            doc = event_document(nid, now, self.site, record, change)
            out.append(self._new(plan, nid, NotificationKind.EVENT, doc, record.camera_id or NODE_KEY, now, record))
        state = camera_state(record, change)
        if state is not None and record.camera_id is not None:
            for plan in self.channels:
                if plan.camera_status:
                    nid = self.make_id()
                    doc = status_document(nid, now, self.site, record, state)
                    out.append(self._new(plan, nid, NotificationKind.CAMERA_STATUS, doc, record.camera_id, now, record))
        return out

    def document(self, nid: str, kind: str, body: Mapping[str, Any], now_us: int) -> dict[str, Any]:
        """A document of the given kind around ``body`` (the alarm engine's): the fields every document has
        (id, kind, version, created, site), then the body's."""
        reserved = {"id", "kind", "version", "created", "created_us", "site"} & set(body)
        if reserved:
            raise InvalidRequest(f"a notification's body may not set {', '.join(sorted(reserved))}")
        head = {
            "id": nid,
            "kind": kind,
            "version": DOCUMENT_VERSION,
            "created": iso_from_us(now_us),
            "created_us": now_us,
            "site": self.site.name,
            "title": str(body.get("title", kind)),
            "text": str(body.get("text", "")),
        }
        return {**head, **body}

    def make(
        self,
        plan: ChannelPlan,
        kind: str,
        body: Mapping[str, Any],
        key: str,
        *,
        event: EventRecord | None = None,
    ) -> NewNotification:
        now = self.clock.now_us()
        nid = self.make_id()
        return self._new(plan, nid, kind, self.document(nid, kind, body, now), key, now, event)

    def _new(
        self,
        plan: ChannelPlan,
        nid: str,
        kind: str,
        doc: Mapping[str, Any],
        key: str,
        now: int,
        event: EventRecord | None,
    ) -> NewNotification:
        picture = None
        relpath = str(event.data.get("snapshot", "")) if event is not None else ""
        if plan.wants_snapshot and relpath:
            picture = self.snapshot(relpath)
        return NewNotification(
            id=nid,
            channel=plan.name,
            kind=kind,
            key=key,
            payload=plan.render(doc, picture),
            content_type=plan.content_type,
            created_us=now,
            expires_us=now + int(plan.expire_after_s * 1e6),
            event_id=event.id if event is not None else None,
        )


@dataclass(frozen=True, slots=True)
class NotificationView:
    notification: Notification
    attempts: list[Attempt]


class Outbox:
    """The outbox as use cases see it. ``wake`` tells the delivery workers something new is due."""

    def __init__(
        self, store: OutboxStore, router: NotificationRouter, clock: Clock, wake: Callable[[], None] = lambda: None
    ) -> None:
        self.store = store
        self.router = router
        self.clock = clock
        self.wake = wake

    def enqueue(
        self,
        channel: str,
        kind: NotificationKind | str,
        body: Mapping[str, Any],
        key: str = NODE_KEY,
        *,
        event: EventRecord | None = None,
    ) -> str:
        """Store one notification for ``channel`` (delivered in order with the others of the same ``key``, the
        camera id) and return its id. ``body`` is the document's content (a ``title`` and ``text`` that e-mail
        uses, and anything else); the id, kind, version, creation time and site are added."""
        item = self.prepare(channel, kind, body, key, event=event)
        self.store.add([item])
        self.wake()
        return item.id

    def prepare(
        self,
        channel: str,
        kind: NotificationKind | str,
        body: Mapping[str, Any],
        key: str = NODE_KEY,
        *,
        event: EventRecord | None = None,
    ) -> NewNotification:
        """The notification :meth:`enqueue` would store, rendered for ``channel`` but not stored: for a caller
        that stores it in its own transaction (the alarm store) and then calls :meth:`wake`."""
        plan = self.router.plan(channel)
        if plan is None:
            raise NotFound(f"no notification channel named {channel!r}")
        return self.router.make(plan, str(NotificationKind(kind)), body, key, event=event)

    def has_channel(self, channel: str) -> bool:
        return self.router.plan(channel) is not None

    def list(
        self,
        *,
        state: str | None = None,
        channel: str | None = None,
        key: str | None = None,
        limit: int = 100,
        before_seq: int | None = None,
    ) -> list[NotificationView]:
        if state is not None and state not in set(NotificationState):
            raise InvalidRequest(f"state: {state!r} is not one of {', '.join(NotificationState)}")
        rows = self.store.notifications(state=state, channel=channel, key=key, limit=limit, before_seq=before_seq)
        attempts = self.store.attempts([n.seq for n in rows])
        return [NotificationView(n, attempts.get(n.seq, [])) for n in rows]

    def show(self, notification_id: str) -> NotificationView:
        found = self.store.notification(notification_id)
        if found is None:
            raise NotFound(f"no notification with id {notification_id}")
        return NotificationView(found, self.store.attempts([found.seq]).get(found.seq, []))

    def retry(self, notification_id: str) -> Notification:
        """Send again as soon as possible: a failed or expired one goes back to pending (with a fresh expiry), a
        pending one is due now. A delivered one is not sent again (InvalidRequest)."""
        found = self.store.notification(notification_id)
        if found is None:
            raise NotFound(f"no notification with id {notification_id}")
        if found.state == NotificationState.DELIVERED:
            raise InvalidRequest(f"notification {notification_id} was delivered already")
        plan = self.router.plan(found.channel)
        expiry_s = plan.expire_after_s if plan is not None else DEFAULT_EXPIRY_S
        now = self.clock.now_us()
        again = self.store.retry(notification_id, now, now + int(expiry_s * 1e6))
        log.info("notification %s (channel %s, key %r) is due again", notification_id, found.channel, found.key)
        self.wake()
        return again
