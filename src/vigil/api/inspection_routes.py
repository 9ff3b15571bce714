"""Routine inspections: those due (oldest first) and done, one inspection done with its answers and the camera's
picture attached (a ticket opened for what was not ok), the camera's picture while it is due (for the person doing
it: masks filled in), and the picture kept with it."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from vigil.api.auth import Caller
from vigil.api.context import Api
from vigil.api.maintenance_schemas import InspectionDoneIn, InspectionOut
from vigil.api.schemas import Page
from vigil.domain.access import Action
from vigil.domain.audit import AuditAction
from vigil.domain.errors import Forbidden, NotFound
from vigil.domain.inspections import Inspection, InspectionState
from vigil.usecases.inspections import InspectionClerk
from vigil.usecases.maintenance_access import may_read, may_work


def inspection_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["inspections"])
    deps = api.deps

    def clerk() -> InspectionClerk:
        if deps.inspections is None:
            raise NotFound("this node keeps no inspections")
        return deps.inspections

    def visible(caller: Caller) -> set[str]:
        return {c.id for c in api.gate.cameras(caller.principal, Action.HEALTH)}

    def out(i: Inspection) -> InspectionOut:
        schedule = clerk().schedules().get(i.name)
        grace = schedule.grace_days if schedule is not None else 0.0
        return InspectionOut(
            id=i.id,
            name=i.name,
            camera_id=i.camera_id,
            due_us=i.due_us,
            state=i.state.value,
            overdue=i.overdue(deps.clock.now_us(), grace),
            items=list(schedule.items) if schedule else [],
            done_us=i.done_us,
            done_by=i.done_by,
            answers=[{"item": a.item, "ok": a.ok, "note": a.note} for a in i.answers],
            has_picture=bool(i.picture),
            ticket_id=i.ticket_id,
        )

    def one(inspection_id: int, caller: Caller) -> Inspection:
        if not may_read(caller.principal):
            raise Forbidden("you may not see inspections")
        found = clerk().store.get(inspection_id)
        if found is None or found.camera_id not in visible(caller):
            raise NotFound(f"no inspection with id {inspection_id}")
        return found

    @router.get("/inspections", response_model=Page[InspectionOut], summary="Inspections due (oldest first) or done")
    def inspections(
        state: Annotated[str, Query(pattern="^(due|done|dropped)$")] = "due",
        camera: Annotated[str | None, Query(max_length=64)] = None,
        caller: Caller = Depends(api.auth),
    ) -> Page[InspectionOut]:
        if not may_read(caller.principal):
            api.gate.refused(caller.principal, "see inspections", caller.client)
            raise Forbidden("you may not see inspections")
        seen = visible(caller)
        rows = [i for i in clerk().store.list(state, camera) if i.camera_id in seen]
        return Page(items=[out(i) for i in rows], next_cursor=None)

    @router.get("/inspections/{inspection_id}", response_model=InspectionOut, summary="One inspection")
    def inspection(inspection_id: int, caller: Caller = Depends(api.auth)) -> InspectionOut:
        return out(one(inspection_id, caller))

    @router.post("/inspections/{inspection_id}/done", response_model=InspectionOut, summary="Record an inspection done")
    async def done(inspection_id: int, body: InspectionDoneIn, caller: Caller = Depends(api.auth)) -> InspectionOut:
        found = one(inspection_id, caller)
        if not may_work(caller.principal):
            raise Forbidden("you may read inspections, not do them")
        picture = None
        if deps.picture is not None:
            try:
                picture = await asyncio.to_thread(deps.picture, found.camera_id)
            except Exception:  # the camera gives no picture now: the answers are recorded without one
                picture = None
        answers = [a.model_dump() for a in body.answers]
        stored = await asyncio.to_thread(clerk().done, inspection_id, caller.username, answers, picture, caller.client)
        return out(stored)

    async def masked(camera_id: str, data: bytes, caller: Caller, what: str) -> Response:
        cam = deps.config.camera(camera_id)
        masks = api.gate.masks(caller.principal, cam) if cam is not None else ()
        if masks:
            if deps.mask_picture is None:
                raise Forbidden("this node cannot burn privacy masks into pictures")
            data = await asyncio.to_thread(deps.mask_picture, data, masks)
        api.gate.witness(
            caller.principal,
            AuditAction.SNAPSHOT_VIEW,
            caller.client,
            camera_id=camera_id,
            detail={"what": what, "masked": bool(masks)},
        )
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    @router.get(
        "/inspections/{inspection_id}/current.jpg",
        summary="The camera's picture now, for the person doing a due inspection (masks filled in); audited",
        responses={200: {"content": {"image/jpeg": {}}}},
    )
    async def current(inspection_id: int, caller: Caller = Depends(api.auth)) -> Response:
        found = one(inspection_id, caller)
        if not may_work(caller.principal) or found.state is not InspectionState.DUE:
            raise Forbidden("the camera's picture is shown to whoever does a due inspection")
        if deps.picture is None:
            raise NotFound("this node takes no pictures")
        data = await asyncio.to_thread(deps.picture, found.camera_id)
        return await masked(found.camera_id, data, caller, f"inspection {inspection_id}")

    @router.get(
        "/inspections/{inspection_id}/picture.jpg",
        summary="The picture kept with an inspection done (masks filled in); audited",
        responses={200: {"content": {"image/jpeg": {}}}},
    )
    async def kept(inspection_id: int, caller: Caller = Depends(api.auth)) -> Response:
        found = one(inspection_id, caller)
        if not found.picture:
            raise NotFound(f"inspection {inspection_id} has no picture")
        data = await asyncio.to_thread(clerk().files.picture, found.picture)
        return await masked(found.camera_id, data, caller, f"inspection {inspection_id}")

    return router
