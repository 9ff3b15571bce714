"""The FastAPI application: cameras, segments, timeline, clips, health, status, events, and the web page."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from vigil import __version__
from vigil.api.deps import ApiDeps
from vigil.api.errors import install_error_handlers
from vigil.api.schemas import (
    CameraOut,
    CapacityOut,
    EventFootageOut,
    EventOut,
    HealthOut,
    SegmentOut,
    TimelineOut,
)
from vigil.domain.errors import InvalidRequest, NotFound
from vigil.domain.timeutil import parse_instant
from vigil.usecases.events import event_footage
from vigil.usecases.playback import require_camera, timeline, validate_range
from vigil.usecases.status import site_status

WEB = Path(__file__).resolve().parent.parent / "web"
Stream = Annotated[str, Query(pattern="^(main|sub)$", description="main or sub")]
Instant = Annotated[str, Query(description="ISO 8601 time (e.g. 2026-11-24T10:00:00Z) or UTC microseconds")]


def instant(name: str, text: str) -> int:
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise InvalidRequest(f"{name}: {exc}") from None


def create_app(deps: ApiDeps) -> FastAPI:
    app = FastAPI(title="Vigil", version=__version__, docs_url="/api/docs", openapi_url="/api/openapi.json")
    install_error_handlers(app)
    templates = Jinja2Templates(directory=str(WEB / "templates"))
    app.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    cfg = deps.config

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "index.html", {"site": cfg.site, "version": __version__})

    @app.get("/api/cameras", response_model=list[CameraOut], summary="Cameras with register data and health")
    def cameras() -> list[CameraOut]:
        st = site_status(cfg, deps.catalog, deps.store, deps.clock)
        by_cam = {s.camera_id: s for s in st.streams}
        return [CameraOut.of(c, by_cam.get(c.id)) for c in cfg.cameras]

    @app.get("/api/cameras/{camera_id}", response_model=CameraOut, summary="One camera")
    def camera(camera_id: str) -> CameraOut:
        require_camera(cfg, camera_id)
        st = site_status(cfg, deps.catalog, deps.store, deps.clock)
        cam = cfg.camera(camera_id)
        assert cam is not None
        return CameraOut.of(cam, next((s for s in st.streams if s.camera_id == camera_id), None))

    @app.get("/api/cameras/{camera_id}/segments", response_model=list[SegmentOut], summary="Recorded segments")
    def segments(camera_id: str, start: Instant, end: Instant, stream: Stream = "main") -> list[SegmentOut]:
        require_camera(cfg, camera_id)
        start_us, end_us = instant("start", start), instant("end", end)
        validate_range(start_us, end_us, max_us=31 * 86_400 * 1_000_000)
        return [SegmentOut.of(s) for s in deps.catalog.segments(camera_id, stream, start_us, end_us)]

    @app.get("/api/cameras/{camera_id}/timeline", response_model=TimelineOut, summary="Recorded spans and gaps")
    def camera_timeline(camera_id: str, start: Instant, end: Instant, stream: Stream = "main") -> TimelineOut:
        return TimelineOut.of(
            timeline(cfg, deps.catalog, camera_id, stream, instant("start", start), instant("end", end))
        )

    @app.get("/api/cameras/{camera_id}/clip.mp4", summary="One MP4 for a time range (remuxed, seekable)")
    async def clip(camera_id: str, start: Instant, end: Instant, stream: Stream = "main") -> FileResponse:
        start_us, end_us = instant("start", start), instant("end", end)
        path = await asyncio.to_thread(deps.make_clip, camera_id, stream, start_us, end_us)
        return FileResponse(
            path, media_type="video/mp4", filename=f"{camera_id}-{start_us}.mp4", content_disposition_type="inline"
        )

    @app.get("/api/health", response_model=list[HealthOut], summary="Health of every recorded stream")
    def health() -> list[HealthOut]:
        st = site_status(cfg, deps.catalog, deps.store, deps.clock)
        return [HealthOut.of(s) for s in st.streams]

    @app.get("/api/status", response_model=CapacityOut, summary="Storage capacity against the legal minimum")
    def status() -> CapacityOut:
        st = site_status(cfg, deps.catalog, deps.store, deps.clock)
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

    @app.get("/api/events", response_model=list[EventOut], summary="Events, newest first")
    def events(
        camera: str | None = None,
        type: str | None = None,
        start: str | None = None,
        end: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
        q: Annotated[str | None, Query(max_length=200, description="Words in the description")] = None,
        label: Annotated[
            str | None, Query(min_length=1, max_length=64, description="One object label among the event's")
        ] = None,
        zone: Annotated[
            str | None, Query(min_length=1, max_length=200, description="The zone or line name, exactly")
        ] = None,
    ) -> list[EventOut]:
        rows = deps.catalog.events(
            camera_id=camera,
            types=[type] if type else None,
            start_us=instant("start", start) if start else None,
            end_us=instant("end", end) if end else None,
            limit=limit,
            offset=offset,
            text=q,
            label=label,
            zone=zone,
        )
        return [EventOut.of(e) for e in rows]

    @app.get("/api/events/{event_id}", response_model=EventFootageOut, summary="One event with its footage")
    def event(event_id: int) -> EventFootageOut:
        return EventFootageOut.of(event_footage(deps.catalog, event_id, deps.clock.now_us()))

    @app.get("/api/events/{event_id}/snapshot.jpg", response_class=FileResponse, summary="An event's snapshot")
    def snapshot(event_id: int) -> FileResponse:
        event = deps.catalog.event(event_id)
        if event is None:
            raise NotFound(f"no event with id {event_id}")
        relpath = str(event.data.get("snapshot", ""))
        root = deps.snapshots
        path = (root / relpath).resolve() if root is not None and relpath else None
        if path is None or root is None or not path.is_relative_to(root.resolve()) or not path.is_file():
            raise NotFound(f"event {event_id} has no snapshot")
        return FileResponse(
            path, media_type="image/jpeg", headers={"X-Snapshot-SHA256": str(event.data.get("snapshot_sha256", ""))}
        )

    return app
