"""Events: search (only on cameras the caller may see), one event with its footage, its snapshot, review
marks per user, and the live stream of new events (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse

from vigil.api.alarm_schemas import AlarmOut
from vigil.api.auth import Caller
from vigil.api.context import Api, Cursor, Limit, instant
from vigil.api.schemas import EventFootageOut, EventOut, Page
from vigil.domain.access import Action
from vigil.domain.audit import AuditAction
from vigil.domain.errors import Forbidden, InvalidRequest, NotFound
from vigil.domain.privacy import NO_MASKS
from vigil.domain.records import EventRecord
from vigil.usecases.event_bus import AlarmPublished, EventPublished
from vigil.usecases.events import event_footage

STREAM_QUEUE = 1000  # new events held for one slow listener before the oldest are dropped
KEEPALIVE_S = 15.0


def parse_cursor(cursor: str | None) -> tuple[int, int] | None:
    """An event list cursor: ``<start_us>.<id>`` of the last event of the previous page."""
    if not cursor:
        return None
    start, dot, ident = cursor.partition(".")
    if not dot or not start.lstrip("-").isdigit() or not ident.isdigit():
        raise InvalidRequest("cursor: not a cursor this list gave")
    return int(start), int(ident)


def sse_message(message: EventPublished | AlarmPublished) -> str:
    """One Server-Sent Event: ``event: event`` (change, event) or ``event: alarm`` (change, alarm)."""
    if isinstance(message, AlarmPublished):
        data = AlarmOut.of(message.alarm).model_dump(mode="json")
        payload = json.dumps({"change": message.change, "alarm": data}, separators=(",", ":"))
        return f"event: alarm\ndata: {payload}\n\n"
    event = EventOut.of(message.record).model_dump(mode="json")
    payload = json.dumps({"change": message.change, "event": event}, separators=(",", ":"))
    return f"event: event\nid: {message.record.id}\ndata: {payload}\n\n"


def event_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["events"])
    deps = api.deps

    def visible(caller: Caller) -> list[str]:
        return [c.id for c in api.gate.cameras(caller.principal, Action.EVENTS)]

    def may_see(caller: Caller, event: EventRecord) -> bool:
        if event.camera_id is None:
            return caller.principal.may(Action.EVENTS)
        cam = deps.config.camera(event.camera_id)
        return caller.principal.may_on(Action.EVENTS, event.camera_id, cam.site if cam else "")

    def may_see_camera(caller: Caller, camera_id: str | None) -> bool:
        if camera_id is None:
            return caller.principal.may(Action.EVENTS)
        cam = deps.config.camera(camera_id)
        return caller.principal.may_on(Action.EVENTS, camera_id, cam.site if cam else "")

    def one(event_id: int, caller: Caller) -> EventRecord:
        event = deps.catalog.event(event_id)
        if event is None or not may_see(caller, event):
            if event is not None:
                api.gate.refused(caller.principal, f"event {event_id}", caller.client, event.camera_id)
                raise Forbidden(f"you may not see event {event_id}")
            raise NotFound(f"no event with id {event_id}")
        return event

    @router.get("/events", response_model=Page[EventOut], summary="Events, newest first")
    def events(
        limit: Limit = 100,
        cursor: Cursor = None,
        camera: Annotated[str | None, Query(max_length=64)] = None,
        type: Annotated[str | None, Query(max_length=64)] = None,
        start: str | None = None,
        end: str | None = None,
        q: Annotated[str | None, Query(max_length=200, description="Words in the description")] = None,
        label: Annotated[
            str | None, Query(min_length=1, max_length=64, description="One object label among the event's")
        ] = None,
        zone: Annotated[
            str | None, Query(min_length=1, max_length=200, description="The zone or line name, exactly")
        ] = None,
        unreviewed: Annotated[bool, Query(description="Only events the caller has not marked reviewed")] = False,
        caller: Caller = Depends(api.auth),
    ) -> Page[EventOut]:
        api.gate.require(caller.principal, Action.EVENTS, caller.client, "see events")
        if camera is not None:
            api.gate.camera(caller.principal, Action.EVENTS, camera, caller.client)
        rows = deps.catalog.events(
            camera_ids=[camera] if camera is not None else visible(caller),
            include_node_events=camera is None,
            types=[type] if type else None,
            start_us=instant("start", start) if start else None,
            end_us=instant("end", end) if end else None,
            limit=limit,
            before=parse_cursor(cursor),
            text=q,
            label=label,
            zone=zone,
            unreviewed_by=caller.username if unreviewed else None,
        )
        seen = deps.catalog.reviewed_ids([e.id for e in rows], caller.username)
        nxt = f"{rows[-1].start_us}.{rows[-1].id}" if len(rows) == limit else None
        return Page(items=[EventOut.of(e, e.id in seen) for e in rows], next_cursor=nxt)

    @router.get(
        "/events/stream",
        summary="New and ended events, and alarms as they change, as Server-Sent Events (text/event-stream)",
    )
    async def stream(request: Request, caller: Caller = Depends(api.auth)) -> StreamingResponse:
        if deps.bus is None:
            raise NotFound("this node publishes no live events")
        api.gate.require(caller.principal, Action.EVENTS, caller.client, "see events")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[EventPublished | AlarmPublished] = asyncio.Queue(STREAM_QUEUE)

        def put(message: EventPublished | AlarmPublished) -> None:  # in the publisher's thread
            if isinstance(message, EventPublished) and not may_see(caller, message.record):
                return
            if isinstance(message, AlarmPublished) and not may_see_camera(caller, message.alarm.camera_id):
                return

            def add() -> None:
                if queue.full():
                    queue.get_nowait()
                queue.put_nowait(message)

            loop.call_soon_threadsafe(add)

        unsubscribers = [deps.bus.subscribe(put)]
        if deps.alarm_bus is not None:
            unsubscribers.append(deps.alarm_bus.subscribe(put))

        async def body() -> AsyncIterator[str]:
            try:
                yield "retry: 3000\n\n"
                while not await request.is_disconnected():
                    try:
                        message = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    yield sse_message(message)
            finally:
                for unsubscribe in unsubscribers:
                    unsubscribe()

        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(body(), media_type="text/event-stream", headers=headers)

    @router.get("/events/{event_id}", response_model=EventFootageOut, summary="One event with its footage")
    def event(event_id: int, caller: Caller = Depends(api.auth)) -> EventFootageOut:
        one(event_id, caller)
        return EventFootageOut.of(event_footage(deps.catalog, event_id, deps.clock.now_us()))

    @router.put("/events/{event_id}/review", status_code=204, summary="Mark an event reviewed (by the caller)")
    def review(event_id: int, caller: Caller = Depends(api.auth)) -> Response:
        one(event_id, caller)
        deps.catalog.mark_reviewed(event_id, caller.username, deps.clock.now_us())
        return Response(status_code=204)

    @router.delete("/events/{event_id}/review", status_code=204, summary="Take back one's review mark")
    def unreview(event_id: int, caller: Caller = Depends(api.auth)) -> Response:
        one(event_id, caller)
        deps.catalog.unmark_reviewed(event_id, caller.username)
        return Response(status_code=204)

    @router.get(
        "/events/{event_id}/snapshot.jpg",
        response_class=FileResponse,
        summary="An event's snapshot (privacy masks filled in for a caller without view_unmasked)",
    )
    async def snapshot(event_id: int, caller: Caller = Depends(api.auth)) -> Response:
        event = one(event_id, caller)
        if event.camera_id is not None:  # a picture of the footage: its camera's purpose limit applies
            api.gate.purpose(caller.principal, event.camera_id, (event.start_us, event.start_us + 1), caller.client)
        relpath = str(event.data.get("snapshot", ""))
        root = deps.snapshots
        path = (root / relpath).resolve() if root is not None and relpath else None
        if path is None or root is None or not path.is_relative_to(root.resolve()) or not path.is_file():
            raise NotFound(f"event {event_id} has no snapshot")
        cam = deps.config.camera(event.camera_id) if event.camera_id is not None else None
        masks = api.gate.masks(caller.principal, cam) if cam is not None else NO_MASKS
        masked: bytes | None = None
        if masks:
            if deps.mask_picture is None:
                api.gate.refused(caller.principal, f"snapshot of event {event_id}", caller.client, event.camera_id)
                raise Forbidden("this node cannot burn privacy masks into snapshots")
            masked = await asyncio.to_thread(deps.mask_picture, path.read_bytes(), masks)
        api.gate.witness(
            caller.principal,
            AuditAction.SNAPSHOT_VIEW,
            caller.client,
            camera_id=event.camera_id,
            span=(event.start_us, event.start_us),
            detail={"event": event_id, "masked": bool(masks)},
        )
        if masked is not None:  # not the recorded picture: its hash is not the recorded one
            headers = {"X-Privacy-Masked": "true", "Cache-Control": "private, no-store"}
            return Response(masked, media_type="image/jpeg", headers=headers)
        return FileResponse(
            path,
            media_type="image/jpeg",
            headers={
                "X-Snapshot-SHA256": str(event.data.get("snapshot_sha256", "")),
                "Cache-Control": "private, max-age=600",
            },
        )

    return router
