"""Notifications as data: what the outbox holds, which events go where (routes), how bad an event is (severity),
the JSON document every channel sends, and how long to wait before trying again. Pure: no I/O, no clock reads.

A notification is one message to one channel: a stable id (a UUID, in every message so receivers can drop
duplicates), an ordering key (the camera; ``""`` for the node's own), the exact bytes sent, and a state::

    pending --(receiver took it)--------------> delivered
       |   --(receiver refused it for good)---> failed
       |   --(not delivered before expires_us)-> expired
       +-- (receiver down, 5xx, timeout...): stays pending, next attempt after a back-off

``vigil notifications retry`` (or the API) puts a failed or expired one back to pending.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from vigil.domain.records import EventRecord
from vigil.domain.rules import RuleKind
from vigil.domain.timeutil import iso_from_us

DOCUMENT_VERSION = 1
JSON_CONTENT_TYPE = "application/json"
NODE_KEY = ""  # the ordering key of notifications about no camera (the node's own events)


class NotificationState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    EXPIRED = "expired"
    FAILED = "failed"  # refused for good by the receiver (e.g. HTTP 400 or 410, SMTP 550)


class Outcome(StrEnum):
    """The result of one attempt."""

    DELIVERED = "delivered"
    RETRY = "retry"  # not delivered; try again later
    FAILED = "failed"  # not delivered, and trying again will not help


class NotificationKind(StrEnum):
    """What a notification is about; each channel maps it to its own form (MQTT: topics)."""

    EVENT = "event"
    CAMERA_STATUS = "camera_status"  # a camera went offline or came back (MQTT: retained)
    ALARM = "alarm"  # reserved for the alarm engine
    TICKET = "ticket"  # a maintenance ticket opened, overdue, verified ... (MQTT: vigil/tickets)


class Change(StrEnum):
    """What happened to an event when it was published (``vigil.usecases.event_bus.EventPublished.change``)."""

    OPENED = "opened"
    CLOSED = "closed"
    RECORDED = "recorded"  # began and ended at once


SEVERITIES = ("info", "warning", "critical")
CRITICAL_TYPES = frozenset({"storage_capacity"})
WARNING_TYPES = frozenset(
    {"camera_offline", "fault", "analysis", "stream_fault", "ticket_overdue", *(k.value for k in RuleKind)}
)
KNOWN_EVENT_TYPES = frozenset({"motion", "object", "camera_online", *CRITICAL_TYPES, *WARNING_TYPES})


def event_severity(type_: str) -> str:
    """``critical`` (storage that cannot keep the legal minimum), ``warning`` (a camera offline, a picture fault,
    analysis down, any rule) or ``info`` (motion, objects, a camera back online, anything else)."""
    if type_ in CRITICAL_TYPES:
        return "critical"
    return "warning" if type_ in WARNING_TYPES else "info"


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True, slots=True)
class NewNotification:
    """One notification to store (``ports.OutboxStore``)."""

    id: str  # a UUID
    channel: str
    kind: str  # NotificationKind
    key: str  # ordering key: the camera id, or NODE_KEY
    payload: bytes  # exactly what is sent (a JSON document, or a whole e-mail message)
    content_type: str
    created_us: int
    expires_us: int
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class Attempt:
    at_us: int
    outcome: str  # Outcome
    duration_ms: float
    status: int | None = None  # HTTP status, or the SMTP reply code
    error: str = ""


@dataclass(frozen=True, slots=True)
class Notification:
    seq: int  # the order it was stored in (the order per key)
    id: str
    channel: str
    kind: str
    key: str
    event_id: int | None
    content_type: str
    payload_bytes: int
    payload_sha256: str
    created_us: int
    expires_us: int
    state: str  # NotificationState
    attempts: int
    next_attempt_us: int
    finished_us: int | None
    last_error: str
    payload: bytes | None = None  # None where only the summary was read


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: Outcome
    status: int | None = None
    error: str = ""
    retry_after_s: float | None = None  # the receiver asked to wait this long (HTTP Retry-After)


# --- back-off --------------------------------------------------------------------------------------------
def retry_delay_s(
    attempts: int, initial_s: float, max_s: float, jitter: float, retry_after_s: float | None = None
) -> float:
    """The wait before the next attempt after ``attempts`` failed ones: ``initial_s`` doubled each time, capped at
    ``max_s``, then scaled into [50%, 100%] by ``jitter`` (0 to 1, random) so keys do not retry in step; at least
    what the receiver asked for (``retry_after_s``), but never more than ``max_s``."""
    base = min(max_s, initial_s * float(2 ** max(0, min(attempts - 1, 40))))
    delay = base * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))
    if retry_after_s is not None:
        delay = max(delay, retry_after_s)
    return min(delay, max_s)


# --- receivers' answers ----------------------------------------------------------------------------------
PERMANENT_HTTP = frozenset({400, 410, 413, 415, 422})
"""Statuses that mean the request itself will never be accepted (bad body, gone for good, too large): failed.
Every other status that is not 2xx (401/403/404 included, often a configuration being fixed) is retried until
the notification expires."""


def http_result(status: int, location: str = "", retry_after: str = "") -> DeliveryResult:
    """How an HTTP answer ends an attempt."""
    if 200 <= status < 300:
        return DeliveryResult(Outcome.DELIVERED, status)
    if 300 <= status < 400:
        where = f" to {location}" if location else ""
        return DeliveryResult(
            Outcome.RETRY,
            status,
            f"the receiver redirected{where}; Vigil does not follow redirects "
            "(set the channel's url to the final address)",
        )
    wait = _seconds(retry_after)
    if status in PERMANENT_HTTP:
        return DeliveryResult(Outcome.FAILED, status, f"the receiver refused it for good (HTTP {status})")
    return DeliveryResult(Outcome.RETRY, status, f"the receiver answered HTTP {status}", wait)


def _seconds(retry_after: str) -> float | None:
    """Retry-After in seconds (the HTTP-date form is ignored)."""
    text = retry_after.strip()
    return float(text) if text.isdigit() else None


# --- routes ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Route:
    """Which events go to a channel. Empty sets match everything; all given conditions must hold."""

    channel: str
    types: frozenset[str] = frozenset()
    cameras: frozenset[str] = frozenset()
    labels: frozenset[str] = frozenset()
    zones: frozenset[str] = frozenset()
    min_severity: str = "info"
    changes: frozenset[str] = frozenset({Change.OPENED, Change.RECORDED})

    def matches(self, record: EventRecord, change: str) -> bool:
        if change not in self.changes:
            return False
        if self.types and record.type not in self.types:
            return False
        if self.cameras and record.camera_id not in self.cameras:
            return False
        if self.labels and not self.labels.intersection(record.labels):
            return False
        if self.zones and record.zone not in self.zones:
            return False
        return severity_rank(event_severity(record.type)) >= severity_rank(self.min_severity)


def routed_channels(routes: Sequence[Route], record: EventRecord, change: str) -> list[str]:
    """The channels an event goes to, each once, in the order of the first route naming it."""
    out: list[str] = []
    for route in routes:
        if route.channel not in out and route.matches(record, change):
            out.append(route.channel)
    return out


def camera_state(record: EventRecord, change: str) -> str | None:
    """``offline`` or ``online`` when this event changes a camera's connection state, else None."""
    if record.camera_id is None:
        return None
    if record.type == "camera_offline":
        return "offline" if change == Change.OPENED else "online" if change == Change.CLOSED else None
    if record.type == "camera_online" and change == Change.RECORDED:
        return "online"
    return None


# --- documents -------------------------------------------------------------------------------------------
HIDDEN_DATA = frozenset({"snapshot"})  # a path on the node: of no use to a receiver


@dataclass(frozen=True, slots=True)
class Site:
    """What a document says about where it comes from."""

    name: str
    camera_names: Mapping[str, str]
    public_url: str = ""  # the console as integrators reach it; "" for no links


def event_document(
    notification_id: str, created_us: int, site: Site, record: EventRecord, change: str
) -> dict[str, Any]:
    camera = site.camera_names.get(record.camera_id or "", record.camera_id or "")
    event: dict[str, Any] = {
        "id": record.id,
        "type": record.type,
        "change": change,
        "severity": event_severity(record.type),
        "camera_id": record.camera_id,
        "camera": camera or None,
        "stream": record.stream,
        "start": iso_from_us(record.start_us),
        "start_us": record.start_us,
        "end": iso_from_us(record.end_us) if record.end_us is not None else None,
        "end_us": record.end_us,
        "description": record.description,
        "zone": record.zone,
        "labels": list(record.labels),
        "score": record.score,
        "has_snapshot": bool(record.data.get("snapshot")),
        "data": {k: v for k, v in record.data.items() if k not in HIDDEN_DATA},
    }
    if site.public_url:
        base = site.public_url.rstrip("/")
        event["url"] = f"{base}/api/v1/events/{record.id}"
        if event["has_snapshot"]:
            event["snapshot_url"] = f"{base}/api/v1/events/{record.id}/snapshot.jpg"
    title = f"{record.type.replace('_', ' ')}" + (f" at {camera}" if camera else "")
    return _document(notification_id, NotificationKind.EVENT, created_us, site, title, record.description, event)


def status_document(
    notification_id: str, created_us: int, site: Site, record: EventRecord, state: str
) -> dict[str, Any]:
    camera = site.camera_names.get(record.camera_id or "", record.camera_id or "")
    at_us = record.start_us if state == "offline" or record.end_us is None else record.end_us
    status = {
        "camera_id": record.camera_id,
        "camera": camera,
        "state": state,
        "since": iso_from_us(at_us),
        "since_us": at_us,
        "event_id": record.id,
    }
    title = f"camera {camera} {state}"
    return {
        **_document(notification_id, NotificationKind.CAMERA_STATUS, created_us, site, title, record.description),
        **status,
    }


def _document(
    notification_id: str,
    kind: str,
    created_us: int,
    site: Site,
    title: str,
    text: str,
    event: dict[str, Any] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": notification_id,
        "kind": kind,
        "version": DOCUMENT_VERSION,
        "created": iso_from_us(created_us),
        "created_us": created_us,
        "site": site.name,
        "title": title,
        "text": text,
    }
    if event is not None:
        doc["event"] = event
    return doc


def json_payload(document: Mapping[str, Any]) -> bytes:
    """The bytes of a JSON document as sent: UTF-8, sorted keys, no spaces (one form, so the stored payload and
    the signature are over the same bytes)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
