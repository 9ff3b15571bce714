"""Cameras, their recordings (segments, timeline, clips), health and storage status. Every camera URL is
checked against the caller's role and grants; playback and export are written to the audit log. A caller without
``view_unmasked`` on a camera with privacy masks gets its clips, playback and pictures with the masks burned in
(re-encoded); the audit entry says so."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import FileResponse, StreamingResponse

from vigil.api.auth import Caller
from vigil.api.context import Api, Cursor, Instant, Limit, Reason, Stream, instant, next_offset, offset_of
from vigil.api.schemas import CameraOut, CapacityOut, HealthOut, Page, SegmentOut, TierOut, TimelineOut
from vigil.config.models import CameraConfig
from vigil.domain.access import CAMERA_ACTIONS, Action
from vigil.domain.audit import AuditAction
from vigil.domain.errors import NotFound
from vigil.usecases.playback import timeline, validate_range
from vigil.usecases.status import site_status

MAX_LIST_US = 31 * 86_400 * 1_000_000
CLIP_START_HEADER = "X-Clip-Start-Us"  # the instant of the clip's first frame (its time 0), UTC microseconds
STREAM_START_HEADER = "X-Stream-Start-Us"  # the instant of a playback stream's media time 0, UTC microseconds
CODEC_HEADER = "X-Codec"  # a playback stream's MIME type with codecs, for MediaSource.addSourceBuffer


def allowed(caller: Caller, cam: CameraConfig) -> list[str]:
    return sorted(a.value for a in CAMERA_ACTIONS if caller.principal.may_on(a, cam.id, cam.site))


def camera_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["cameras"])
    deps = api.deps

    @router.get("/cameras", response_model=Page[CameraOut], summary="The cameras the caller may see, with health")
    def cameras(limit: Limit = 100, cursor: Cursor = None, caller: Caller = Depends(api.auth)) -> Page[CameraOut]:
        offset = offset_of(cursor)
        visible = [(c, may) for c in deps.config.cameras if (may := allowed(caller, c))][offset : offset + limit]
        st = site_status(deps.config, deps.catalog, deps.store, deps.clock)
        by_cam = {s.camera_id: s for s in st.streams}
        items = [CameraOut.of(c, by_cam.get(c.id), may) for c, may in visible]
        return Page(items=items, next_cursor=next_offset(offset, limit, len(items)))

    @router.get("/cameras/{camera_id}", response_model=CameraOut, summary="One camera")
    def camera(camera_id: str, caller: Caller = Depends(api.auth)) -> CameraOut:
        cam = api.gate.camera(caller.principal, Action.HEALTH, camera_id, caller.client)
        st = site_status(deps.config, deps.catalog, deps.store, deps.clock)
        status = next((s for s in st.streams if s.camera_id == camera_id), None)
        return CameraOut.of(cam, status, allowed(caller, cam))

    @router.get("/cameras/{camera_id}/segments", response_model=Page[SegmentOut], summary="Recorded segments")
    def segments(
        camera_id: str,
        start: Instant,
        end: Instant,
        stream: Stream = "main",
        limit: Limit = 1000,
        cursor: Cursor = None,
        caller: Caller = Depends(api.auth),
    ) -> Page[SegmentOut]:
        start_us, end_us = instant("start", start), instant("end", end)
        validate_range(start_us, end_us, max_us=MAX_LIST_US)
        api.gate.camera(caller.principal, Action.PLAYBACK, camera_id, caller.client, (start_us, end_us))
        offset = offset_of(cursor)
        rows = deps.catalog.segments(camera_id, stream, start_us, end_us)[offset : offset + limit]
        return Page(items=[SegmentOut.of(s) for s in rows], next_cursor=next_offset(offset, limit, len(rows)))

    @router.get("/cameras/{camera_id}/timeline", response_model=TimelineOut, summary="Recorded spans, gaps, events")
    def camera_timeline(
        camera_id: str, start: Instant, end: Instant, stream: Stream = "main", caller: Caller = Depends(api.auth)
    ) -> TimelineOut:
        start_us, end_us = instant("start", start), instant("end", end)
        api.gate.camera(caller.principal, Action.PLAYBACK, camera_id, caller.client)
        return TimelineOut.of(timeline(deps.config, deps.catalog, camera_id, stream, start_us, end_us))

    @router.get(
        "/cameras/{camera_id}/clip.mp4",
        summary="One MP4 for a time range (remuxed, seekable); download=true exports it",
        response_class=FileResponse,
    )
    async def clip(
        camera_id: str,
        start: Instant,
        end: Instant,
        stream: Stream = "main",
        reason: Reason = None,
        download: Annotated[bool, Query(description="Save as a file (an export) rather than play")] = False,
        caller: Caller = Depends(api.auth),
    ) -> FileResponse:
        start_us, end_us = instant("start", start), instant("end", end)
        validate_range(start_us, end_us)
        act, action = (AuditAction.EXPORT, Action.EXPORT) if download else (AuditAction.PLAYBACK, Action.PLAYBACK)
        cam = api.gate.camera(caller.principal, action, camera_id, caller.client, (start_us, end_us))
        why = api.gate.reason(act, reason)
        masks = api.gate.masks(caller.principal, cam)
        made = await asyncio.to_thread(deps.make_clip, camera_id, stream, start_us, end_us, masks)
        api.gate.witness(
            caller.principal,
            act,
            caller.client,
            camera_id=camera_id,
            span=(start_us, end_us),
            reason=why,
            detail={"stream": stream, "what": "clip", "masked": bool(masks)},
        )
        return FileResponse(
            made.path,
            media_type="video/mp4",
            filename=f"{camera_id}-{start_us}.mp4",
            content_disposition_type="attachment" if download else "inline",
            headers={CLIP_START_HEADER: str(made.start_us)},
        )

    @router.get(
        "/cameras/{camera_id}/playback.mp4",
        summary="Recorded video from a moment, streamed as fragmented MP4 for Media Source Extensions",
        response_class=StreamingResponse,
        responses={200: {"content": {"video/mp4": {}}}},
    )
    async def playback(
        camera_id: str,
        start: Instant,
        end: Instant,
        stream: Stream = "main",
        reason: Reason = None,
        caller: Caller = Depends(api.auth),
    ) -> StreamingResponse:
        start_us, end_us = instant("start", start), instant("end", end)
        validate_range(start_us, end_us)
        cam = api.gate.camera(caller.principal, Action.PLAYBACK, camera_id, caller.client, (start_us, end_us))
        why = api.gate.reason(AuditAction.PLAYBACK, reason)
        if deps.playback is None:
            raise NotFound("this node streams no playback; use clip.mp4")
        masks = api.gate.masks(caller.principal, cam)
        opened = await asyncio.to_thread(deps.playback, camera_id, stream, start_us, end_us, masks)
        api.gate.witness(
            caller.principal,
            AuditAction.PLAYBACK,
            caller.client,
            camera_id=camera_id,
            span=(start_us, end_us),
            reason=why,
            detail={"stream": stream, "what": "stream", "masked": bool(masks)},
        )
        return StreamingResponse(
            opened.chunks,
            media_type="video/mp4",
            headers={STREAM_START_HEADER: str(opened.start_us), CODEC_HEADER: opened.mime},
        )

    @router.get(
        "/cameras/{camera_id}/picture.jpg",
        summary="A recent picture of the camera (JPEG; for drawing zones, lines and masks)",
        response_class=Response,
        responses={200: {"content": {"image/jpeg": {}}}},
    )
    async def picture(camera_id: str, caller: Caller = Depends(api.auth)) -> Response:
        cam = api.gate.camera(caller.principal, Action.LIVE, camera_id, caller.client)
        if deps.picture is None:
            raise NotFound("this node takes no pictures")
        masks = api.gate.masks(caller.principal, cam)
        data = await asyncio.to_thread(deps.picture, camera_id, masks)
        api.gate.witness(
            caller.principal,
            AuditAction.SNAPSHOT_VIEW,
            caller.client,
            camera_id=camera_id,
            detail={"what": "current picture", "masked": bool(masks)},
        )
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    @router.get("/health", response_model=Page[HealthOut], summary="Health of every stream the caller may see")
    def health(limit: Limit = 1000, cursor: Cursor = None, caller: Caller = Depends(api.auth)) -> Page[HealthOut]:
        offset = offset_of(cursor)
        visible = {c.id for c in api.gate.cameras(caller.principal, Action.HEALTH)}
        st = site_status(deps.config, deps.catalog, deps.store, deps.clock)
        rows = [HealthOut.of(s) for s in st.streams if s.camera_id in visible][offset : offset + limit]
        return Page(items=rows, next_cursor=next_offset(offset, limit, len(rows)))

    @router.get("/status", response_model=CapacityOut, summary="Storage capacity against the legal minimum")
    def status(caller: Caller = Depends(api.auth)) -> CapacityOut:
        api.gate.require(caller.principal, Action.HEALTH, caller.client, "see the storage status")
        st = site_status(deps.config, deps.catalog, deps.store, deps.clock)
        cap = st.capacity
        return CapacityOut(
            capacity_bytes=cap.capacity_bytes,
            used_bytes=st.used_bytes,
            bytes_per_day=cap.bytes_per_day,
            days_of_capacity=cap.days_of_capacity,
            days_required=cap.days_required,
            ok=cap.ok,
            summary=cap.describe(),
        )

    @router.get("/storage/tiers", response_model=Page[TierOut], summary="Every storage tier: use, days kept, copy lag")
    def tiers(caller: Caller = Depends(api.auth)) -> Page[TierOut]:
        api.gate.require(caller.principal, Action.HEALTH, caller.client, "see the storage status")
        states = deps.tiers() if deps.tiers is not None else []
        return Page(items=[TierOut.of(t) for t in states], next_cursor=None)

    return router
