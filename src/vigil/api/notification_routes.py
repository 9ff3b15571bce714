"""Notifications (admins): the outbox with every delivery attempt, one notification with its payload, and a
retry (written to the audit log)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from vigil.api.auth import Caller
from vigil.api.context import Api, Cursor, Limit
from vigil.api.schemas import Page
from vigil.domain.access import Action
from vigil.domain.audit import AuditAction
from vigil.domain.errors import InvalidRequest, NotFound
from vigil.domain.notifications import Attempt, Notification
from vigil.domain.timeutil import iso_from_us
from vigil.usecases.notifications import NotificationView, Outbox


class AttemptOut(BaseModel):
    at: str
    at_us: int
    outcome: str = Field(description="delivered, retry (not delivered; tried again later) or failed (for good)")
    duration_ms: float
    status: int | None = Field(description="The HTTP status, or the SMTP reply code; null when there was none")
    error: str

    @classmethod
    def of(cls, a: Attempt) -> AttemptOut:
        return cls(
            at=iso_from_us(a.at_us),
            at_us=a.at_us,
            outcome=a.outcome,
            duration_ms=a.duration_ms,
            status=a.status,
            error=a.error,
        )


class NotificationOut(BaseModel):
    id: str = Field(description="The notification's id (a UUID), in every message sent: receivers drop repeats")
    channel: str
    kind: str = Field(description="event, camera_status or alarm")
    camera_id: str | None = Field(description="Its ordering key: notifications of a camera go out in order")
    event_id: int | None
    state: str = Field(description="pending, delivered, failed (refused for good) or expired")
    created: str
    created_us: int
    expires: str
    finished: str | None
    next_attempt: str | None = Field(description="When a pending notification is tried next")
    attempt_count: int
    last_error: str
    content_type: str
    payload_bytes: int
    payload_sha256: str
    attempts: list[AttemptOut]

    @classmethod
    def of(cls, view: NotificationView) -> NotificationOut:
        n: Notification = view.notification
        return cls(
            id=n.id,
            channel=n.channel,
            kind=n.kind,
            camera_id=n.key or None,
            event_id=n.event_id,
            state=n.state,
            created=iso_from_us(n.created_us),
            created_us=n.created_us,
            expires=iso_from_us(n.expires_us),
            finished=iso_from_us(n.finished_us) if n.finished_us is not None else None,
            next_attempt=iso_from_us(n.next_attempt_us) if n.state == "pending" else None,
            attempt_count=n.attempts,
            last_error=n.last_error,
            content_type=n.content_type,
            payload_bytes=n.payload_bytes,
            payload_sha256=n.payload_sha256,
            attempts=[AttemptOut.of(a) for a in view.attempts],
        )


class NotificationDetailOut(NotificationOut):
    payload: str | None = Field(description="The bytes sent, as UTF-8 text (a JSON document or an e-mail message)")

    @classmethod
    def detail(cls, view: NotificationView) -> NotificationDetailOut:
        raw = view.notification.payload or b""
        try:
            text: str | None = raw.decode()
        except UnicodeDecodeError:
            text = None
        return cls(**NotificationOut.of(view).model_dump(), payload=text)


def notification_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["notifications"])
    deps = api.deps

    def outbox(caller: Caller, what: str) -> Outbox:
        api.gate.require(caller.principal, Action.ADMIN, caller.client, what)
        if deps.outbox is None:
            raise NotFound("this node keeps no notifications")
        return deps.outbox

    @router.get("/notifications", response_model=Page[NotificationOut], summary="Notifications, newest first")
    def notifications(
        limit: Limit = 100,
        cursor: Cursor = None,
        state: Annotated[str | None, Query(max_length=16, description="pending, delivered, failed, expired")] = None,
        channel: Annotated[str | None, Query(max_length=64)] = None,
        camera: Annotated[str | None, Query(max_length=64)] = None,
        caller: Caller = Depends(api.auth),
    ) -> Page[NotificationOut]:
        box = outbox(caller, "see notifications")
        if cursor is not None and not cursor.isdigit():
            raise InvalidRequest("cursor: not a cursor this list gave")
        before = int(cursor) if cursor else None
        views = box.list(state=state, channel=channel, key=camera, limit=limit, before_seq=before)
        nxt = str(views[-1].notification.seq) if len(views) == limit else None
        return Page(items=[NotificationOut.of(v) for v in views], next_cursor=nxt)

    @router.get("/notifications/{notification_id}", response_model=NotificationDetailOut, summary="One notification")
    def notification(notification_id: str, caller: Caller = Depends(api.auth)) -> NotificationDetailOut:
        return NotificationDetailOut.detail(outbox(caller, "see notifications").show(notification_id))

    @router.post(
        "/notifications/{notification_id}/retry", response_model=NotificationOut, summary="Send a notification again"
    )
    def retry(notification_id: str, caller: Caller = Depends(api.auth)) -> NotificationOut:
        box = outbox(caller, "retry notifications")
        again = box.retry(notification_id)
        deps.audit.append(
            deps.clock.now_us(),
            caller.username,
            AuditAction.NOTIFICATION_RETRY,
            client=caller.client,
            camera_id=again.key or None,
            detail={"notification": again.id, "channel": again.channel},
        )
        return NotificationOut.of(box.show(notification_id))

    return router
