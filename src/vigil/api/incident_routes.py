"""Incidents (cases) and their emergency plans: open, link alarms and events, notes, people, checklist ticks, close
and reopen; the report as HTML or PDF; "export the evidence of this incident". Seeing an incident needs the events of
every camera it touches; the plans are read by everyone who handles events and written by admins."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from vigil.api.auth import Caller
from vigil.api.context import Api, Cursor, Limit, next_offset, offset_of
from vigil.api.evidence_schemas import EvidenceOut
from vigil.api.incident_schemas import (
    CloseIn,
    IncidentDetailOut,
    IncidentEvidenceIn,
    IncidentIn,
    IncidentOut,
    LinkIn,
    NoteIn,
    NoteOut,
    PeopleIn,
    PlanIn,
    PlanOut,
    ReopenIn,
    StepOut,
    TickIn,
)
from vigil.api.schemas import Page
from vigil.domain.access import Action
from vigil.domain.audit import AuditAction
from vigil.domain.errors import NotFound
from vigil.usecases.evidence import new_package_id
from vigil.usecases.incident_report import build_report, incident_evidence_request
from vigil.usecases.incidents import IncidentDesk, IncidentView
from vigil.usecases.plans import PlanLibrary

MEDIA = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def incident_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["incidents"])
    deps = api.deps

    def desk() -> IncidentDesk:
        if deps.incidents is None:
            raise NotFound("this node keeps no incidents")
        return deps.incidents

    def library() -> PlanLibrary:
        if deps.plans is None:
            raise NotFound("this node keeps no emergency plans")
        return deps.plans

    def handler(caller: Caller, what: str) -> None:
        api.gate.require(caller.principal, Action.EVENTS, caller.client, what)

    def seen(incident_id: int, caller: Caller) -> IncidentView:
        """The incident, if the caller may see the events of every camera it touches (Forbidden, audited, if not)."""
        handler(caller, "handle incidents")
        view = desk().view(incident_id)
        for camera_id in view.cameras:
            api.gate.camera(caller.principal, Action.EVENTS, camera_id, caller.client)
        return view

    def detail(incident_id: int) -> IncidentDetailOut:
        return IncidentDetailOut.of(desk().view(incident_id))

    @router.get("/incidents", response_model=Page[IncidentOut], summary="Incidents, newest first")
    def incidents(
        state: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
        limit: Limit = 100,
        cursor: Cursor = None,
        caller: Caller = Depends(api.auth),
    ) -> Page[IncidentOut]:
        handler(caller, "see incidents")
        offset = offset_of(cursor)
        rows = desk().incidents(state, limit, offset)
        mine = {c.id for c in api.gate.cameras(caller.principal, Action.EVENTS)}
        items = [IncidentOut.of(i) for i in rows if set(desk().view(i.id).cameras) <= mine]
        return Page(items=items, next_cursor=next_offset(offset, limit, len(rows)))

    @router.post("/incidents", response_model=IncidentDetailOut, status_code=201, summary="Open an incident")
    def open_incident(body: IncidentIn, caller: Caller = Depends(api.auth)) -> IncidentDetailOut:
        handler(caller, "open incidents")
        for alarm_id in body.alarms:
            alarm = deps.alarms.store.alarm(alarm_id) if deps.alarms is not None else None
            if alarm is not None and alarm.camera_id is not None:
                api.gate.camera(caller.principal, Action.EVENTS, alarm.camera_id, caller.client)
        for event_id in body.events:
            event = deps.catalog.event(event_id)
            if event is not None and event.camera_id is not None:
                api.gate.camera(caller.principal, Action.EVENTS, event.camera_id, caller.client)
        made = desk().open(
            body.type, body.title, body.severity, body.place, caller.username, caller.client, body.alarms, body.events
        )
        return detail(made.id)

    @router.get("/incidents/{incident_id}", response_model=IncidentDetailOut, summary="One incident, all of it")
    def incident(incident_id: int, caller: Caller = Depends(api.auth)) -> IncidentDetailOut:
        return IncidentDetailOut.of(seen(incident_id, caller))

    @router.post("/incidents/{incident_id}/links", response_model=IncidentDetailOut, summary="Add alarms and events")
    def link(incident_id: int, body: LinkIn, caller: Caller = Depends(api.auth)) -> IncidentDetailOut:
        seen(incident_id, caller)
        desk().link(incident_id, body.alarms, body.events, caller.username, caller.client)
        return detail(incident_id)

    @router.post("/incidents/{incident_id}/notes", response_model=NoteOut, status_code=201, summary="Add a note")
    def note(incident_id: int, body: NoteIn, caller: Caller = Depends(api.auth)) -> NoteOut:
        seen(incident_id, caller)
        return NoteOut.of(desk().note(incident_id, body.text, caller.username, body.corrects, caller.client))

    @router.put("/incidents/{incident_id}/people", response_model=IncidentOut, summary="Who is on the case")
    def people(incident_id: int, body: PeopleIn, caller: Caller = Depends(api.auth)) -> IncidentOut:
        seen(incident_id, caller)
        return IncidentOut.of(desk().assign(incident_id, body.users, caller.username, caller.client))

    @router.post(
        "/incidents/{incident_id}/checklist/{step}", response_model=StepOut, summary="Tick a step (index from 0)"
    )
    def tick(incident_id: int, step: int, body: TickIn, caller: Caller = Depends(api.auth)) -> StepOut:
        seen(incident_id, caller)
        desk().tick(incident_id, step, body.status, caller.username, body.note, caller.client)
        return StepOut.of(desk().view(incident_id).checklist[step])

    @router.post("/incidents/{incident_id}/close", response_model=IncidentOut, summary="Close with the outcome")
    def close(incident_id: int, body: CloseIn, caller: Caller = Depends(api.auth)) -> IncidentOut:
        seen(incident_id, caller)
        return IncidentOut.of(desk().close(incident_id, body.outcome, caller.username, caller.client))

    @router.post("/incidents/{incident_id}/reopen", response_model=IncidentOut, summary="Reopen a closed incident")
    def reopen(incident_id: int, body: ReopenIn, caller: Caller = Depends(api.auth)) -> IncidentOut:
        seen(incident_id, caller)
        return IncidentOut.of(desk().reopen(incident_id, body.reason, caller.username, caller.client))

    @router.get(
        "/incidents/{incident_id}/report.{fmt}",
        response_class=Response,
        summary="The incident report (html or pdf): facts, timeline, checklist, snapshots, evidence",
    )
    def report(incident_id: int, fmt: str, caller: Caller = Depends(api.auth)) -> Response:
        if fmt not in MEDIA or deps.render_report is None:
            raise NotFound(f"no {fmt} report on this node (html or pdf)")
        view = seen(incident_id, caller)
        root = deps.snapshots

        def snapshot(relpath: str) -> bytes | None:
            path = (root / relpath).resolve() if root is not None else None
            if path is None or root is None or not path.is_relative_to(root.resolve()) or not path.is_file():
                return None
            return path.read_bytes()

        made = build_report(
            view,
            site=deps.config.site.name,
            timezone=deps.config.site.timezone,
            camera_names={c.id: c.name for c in deps.config.cameras},
            now_us=deps.clock.now_us(),
            by=caller.username,
            snapshot=snapshot,
            register=deps.register,
        )
        for camera_id in view.cameras:  # the report shows the events' snapshots: a look at footage
            api.gate.witness(
                caller.principal,
                AuditAction.SNAPSHOT_VIEW,
                caller.client,
                camera_id=camera_id,
                detail={"incident": incident_id, "report": fmt},
            )
        body = deps.render_report(made, fmt)
        name = f"incident-{incident_id}.{fmt}"
        disposition = "inline" if fmt == "html" else "attachment"
        return Response(
            body, media_type=MEDIA[fmt], headers={"Content-Disposition": f'{disposition}; filename="{name}"'}
        )

    @router.post(
        "/incidents/{incident_id}/evidence",
        response_model=EvidenceOut,
        status_code=201,
        summary="Export the evidence of this incident (its cameras and time span, with its records)",
    )
    async def evidence(incident_id: int, body: IncidentEvidenceIn, caller: Caller = Depends(api.auth)) -> EvidenceOut:
        view = seen(incident_id, caller)
        if deps.evidence is None or deps.evidence_dir is None:
            raise NotFound("this node makes no evidence packages")
        now = deps.clock.now_us()
        request = incident_evidence_request(
            view,
            reason=api.gate.reason(AuditAction.EXPORT, body.reason),
            recipient=body.recipient,
            by=caller.username,
            client=caller.client,
            now_us=now,
        )
        for camera_id in request.camera_ids:
            api.gate.camera(
                caller.principal, Action.EXPORT, camera_id, caller.client, (request.start_us, request.end_us)
            )
        package_id = new_package_id(now)
        folder: Path = deps.evidence_dir
        folder.mkdir(parents=True, exist_ok=True)
        made = await asyncio.to_thread(
            deps.evidence.export,
            request,
            folder / f"{package_id}.zip",
            package_id=package_id,
            detail={"incident": incident_id},
        )
        desk().record_evidence(incident_id, package_id, caller.username)
        return EvidenceOut.of(made.record)

    # --- emergency plans -----------------------------------------------------------------------------------------
    @router.get("/plans", response_model=Page[PlanOut], tags=["plans"], summary="The emergency plans, by type")
    def plans(limit: Limit = 100, cursor: Cursor = None, caller: Caller = Depends(api.auth)) -> Page[PlanOut]:
        handler(caller, "read emergency plans")
        offset = offset_of(cursor)
        rows = library().entries()[offset : offset + limit]
        return Page(items=[PlanOut.of(e) for e in rows], next_cursor=next_offset(offset, limit, len(rows)))

    @router.get("/plans/{plan_type}", response_model=PlanOut, tags=["plans"], summary="One emergency plan")
    def plan(plan_type: str, caller: Caller = Depends(api.auth)) -> PlanOut:
        handler(caller, "read emergency plans")
        return PlanOut.of(library().entry(plan_type))

    @router.put("/plans/{plan_type}", response_model=PlanOut, tags=["plans"], summary="Write an emergency plan")
    def save_plan(plan_type: str, body: PlanIn, caller: Caller = Depends(api.auth)) -> PlanOut:
        api.gate.require(caller.principal, Action.ADMIN, caller.client, "write emergency plans")
        saved = library().save(plan_type, body.text, body.revision, caller.username, caller.client, body.reason.strip())
        return PlanOut.of(saved)

    return router
