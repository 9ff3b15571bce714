"""Availability of cameras, sites and equipment over a period (per day, week or month), as JSON and CSV, and a
camera's health strip. A caller sees the figures of the cameras whose health they may see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from vigil.api.auth import Caller
from vigil.api.context import Api, Instant, instant
from vigil.api.maintenance_schemas import (
    AvailabilityOut,
    BucketOut,
    FiguresOut,
    QualityFindingOut,
    QualityOut,
    QualitySampleOut,
    StripOut,
    StripPieceOut,
)
from vigil.api.schemas import Page
from vigil.domain.access import Action
from vigil.domain.degradation import baselines
from vigil.domain.errors import Forbidden, NotFound
from vigil.usecases.availability import AvailabilityDesk, Figures, figures_csv

By = Annotated[str | None, Query(pattern="^(day|week|month)$", description="day, week or month (site time)")]


def availability_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["availability"])
    deps = api.deps

    def desk() -> AvailabilityDesk:
        if deps.availability is None:
            raise NotFound("this node computes no availability")
        return deps.availability

    def find(
        caller: Caller,
        start: str,
        end: str,
        camera: str | None,
        site: str | None,
        equipment: str | None,
        by: str | None,
        each: bool,
    ) -> tuple[list[Figures], int, int]:
        start_us, end_us = instant("start", start), instant("end", end)
        visible = [c.id for c in api.gate.cameras(caller.principal, Action.HEALTH)]
        if camera is not None:
            api.gate.camera(caller.principal, Action.HEALTH, camera, caller.client)
            return desk().figures(start_us, end_us, cameras=[camera], by=by), start_us, end_us
        if site is not None or equipment is not None:
            found = desk().figures(start_us, end_us, site=site, equipment=equipment, by=by, each=each)
            if any(c not in visible for c in found[0].cameras):
                api.gate.refused(caller.principal, "availability of cameras not theirs", caller.client)
                raise Forbidden("you may not see the health of every camera of that")
            return found, start_us, end_us
        if not visible:
            raise Forbidden("you may not see the health of any camera")
        return desk().figures(start_us, end_us, cameras=visible, by=by, each=each), start_us, end_us

    @router.get("/availability", response_model=Page[AvailabilityOut], summary="Availability over a period")
    def availability(
        start: Instant,
        end: Instant,
        camera: Annotated[str | None, Query(max_length=64)] = None,
        site: Annotated[str | None, Query(max_length=100)] = None,
        equipment: Annotated[str | None, Query(max_length=64, description="Cameras depending on it")] = None,
        by: By = None,
        each: Annotated[bool, Query(description="Also each camera on its own")] = False,
        caller: Caller = Depends(api.auth),
    ) -> Page[AvailabilityOut]:
        found, _, _ = find(caller, start, end, camera, site, equipment, by, each)
        items = [
            AvailabilityOut(
                subject=f.subject,
                cameras=list(f.cameras),
                whole=FiguresOut.of(f.series.whole),
                buckets=[
                    BucketOut(label=b.label, start_us=b.start_us, end_us=b.end_us, figures=FiguresOut.of(a))
                    for b, a in f.series.buckets
                ],
            )
            for f in found
        ]
        return Page(items=items, next_cursor=None)

    @router.get("/availability.csv", summary="Availability over a period, as CSV")
    def availability_file(
        start: Instant,
        end: Instant,
        camera: Annotated[str | None, Query(max_length=64)] = None,
        site: Annotated[str | None, Query(max_length=100)] = None,
        equipment: Annotated[str | None, Query(max_length=64)] = None,
        by: By = None,
        each: bool = True,
        caller: Caller = Depends(api.auth),
    ) -> Response:
        found, start_us, end_us = find(caller, start, end, camera, site, equipment, by, each)
        headers = {"Content-Disposition": 'attachment; filename="vigil-availability.csv"'}
        return Response(figures_csv(found, start_us, end_us), media_type="text/csv", headers=headers)

    @router.get("/cameras/{camera_id}/health-strip", response_model=StripOut, summary="A camera's health strip")
    def strip(camera_id: str, start: Instant, end: Instant, caller: Caller = Depends(api.auth)) -> StripOut:
        api.gate.camera(caller.principal, Action.HEALTH, camera_id, caller.client)
        start_us, end_us = instant("start", start), instant("end", end)
        pieces = desk().strip(camera_id, start_us, end_us)
        return StripOut(
            camera_id=camera_id,
            start_us=start_us,
            end_us=end_us,
            pieces=[
                StripPieceOut(track=p.track, start_us=p.start_us, end_us=p.end_us, label=p.label, ref=p.ref)
                for p in pieces
            ],
        )

    @router.get("/cameras/{camera_id}/quality", response_model=QualityOut, summary="A camera's daily picture check")
    def quality(camera_id: str, caller: Caller = Depends(api.auth)) -> QualityOut:
        api.gate.camera(caller.principal, Action.HEALTH, camera_id, caller.client)
        if deps.quality is None:
            raise NotFound("this node keeps no picture checks")
        samples, found = deps.quality.findings(camera_id)
        since = deps.quality.since_us(camera_id)
        return QualityOut(
            camera_id=camera_id,
            baseline_since_us=since,
            baselines=baselines(samples, deps.config.maintenance.quality.settings(), since),
            samples=[
                QualitySampleOut(
                    day=q.day,
                    period=q.period,
                    at_us=q.at_us,
                    frames=q.frames,
                    sharpness=q.measures.sharpness,
                    contrast=q.measures.contrast,
                    brightness=q.measures.brightness,
                    noise=q.measures.noise,
                    cast=q.measures.cast,
                )
                for q in samples
            ],
            findings=[
                QualityFindingOut(
                    period=f.period, metric=f.metric, baseline=f.baseline, recent=f.recent, text=f.describe()
                )
                for f in found
            ],
        )

    return router
