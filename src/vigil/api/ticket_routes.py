"""Maintenance tickets: the queue (nearest deadline first) and the history, one ticket with its history and fault
events, opening by hand (from the console, an alarm or an incident), the acts on it (each naming the revision the
person saw), notes, a maintenance window planned from it, its pictures, and the tickets of a period as CSV. Who sees
which ticket: ``usecases.maintenance_access``."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from vigil.api.auth import Caller
from vigil.api.context import Api, Cursor, Limit, instant, next_offset, offset_of
from vigil.api.maintenance_schemas import (
    RevisionIn,
    TicketAssignIn,
    TicketChangeOut,
    TicketDetailOut,
    TicketEditIn,
    TicketNoteIn,
    TicketOpenIn,
    TicketOut,
    TicketReopenIn,
    TicketResolveIn,
    TicketWaitIn,
    TicketWindowIn,
    WindowOut,
)
from vigil.api.schemas import EventOut, Page
from vigil.domain.access import Action, Role
from vigil.domain.audit import AuditAction
from vigil.domain.errors import Forbidden, InvalidRequest, NotFound
from vigil.domain.tickets import DONE_STATES, Ticket, TicketSource, TicketState, order_queue
from vigil.usecases.maintenance_access import may_read, may_work, sees_ticket, tickets_csv
from vigil.usecases.ticket_desk import TicketDesk

StateQuery = Annotated[
    str | None,
    Query(max_length=200, description="Comma-separated states; default: those not verified or closed"),
]


def ticket_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["tickets"])
    deps = api.deps

    def desk() -> TicketDesk:
        if deps.tickets is None:
            raise NotFound("this node keeps no maintenance tickets")
        return deps.tickets

    def sites() -> dict[str, str]:
        return {c.id: c.site for c in deps.config.cameras}

    def reader(caller: Caller) -> None:
        if not may_read(caller.principal):
            api.gate.refused(caller.principal, "see maintenance tickets", caller.client)
            raise Forbidden("you may not see maintenance tickets")

    def one(ticket_id: int, caller: Caller, work: bool = False) -> Ticket:
        reader(caller)
        ticket = desk().store.ticket(ticket_id)
        if ticket is None or not sees_ticket(caller.principal, ticket, sites()):
            if ticket is not None:
                api.gate.refused(caller.principal, f"ticket {ticket_id}", caller.client)
            raise NotFound(f"no ticket with id {ticket_id}")
        if work and not may_work(caller.principal):
            api.gate.refused(caller.principal, f"work ticket {ticket_id}", caller.client)
            raise Forbidden("you may read maintenance tickets, not work them")
        return ticket

    def states_of(text: str | None) -> list[str]:
        if not text:
            return [s.value for s in TicketState if s not in DONE_STATES]
        states = [s.strip() for s in text.split(",") if s.strip()]
        unknown = sorted(set(states) - set(TicketState))
        if unknown:
            raise InvalidRequest(f"state: {unknown[0]!r} is not one of {', '.join(TicketState)}")
        return states

    @router.get("/tickets", response_model=Page[TicketOut], summary="Tickets: the queue, nearest deadline first")
    def tickets(
        state: StateQuery = None,
        camera: Annotated[str | None, Query(max_length=64)] = None,
        equipment: Annotated[str | None, Query(max_length=64, description="A register id")] = None,
        kind: Annotated[str | None, Query(max_length=200, description="Comma-separated kinds")] = None,
        order: Annotated[str, Query(pattern="^(queue|newest)$", description="queue or newest")] = "queue",
        limit: Limit = 100,
        cursor: Cursor = None,
        caller: Caller = Depends(api.auth),
    ) -> Page[TicketOut]:
        reader(caller)
        offset = offset_of(cursor)
        kinds = [k.strip() for k in kind.split(",") if k.strip()] if kind else None
        rows = desk().store.tickets(
            states=states_of(state),
            camera_id=camera,
            equipment_ids=[equipment] if equipment else None,
            kinds=kinds,
            limit=limit,
            offset=offset,
        )
        got = len(rows)
        where = sites()
        rows = [t for t in rows if sees_ticket(caller.principal, t, where)]
        if order == "queue":
            rows = order_queue(rows)
        return Page(items=[TicketOut.of(t) for t in rows], next_cursor=next_offset(offset, limit, got))

    @router.get("/tickets.csv", summary="The tickets opened in a period, as CSV")
    def tickets_file(start: str, end: str, caller: Caller = Depends(api.auth)) -> Response:
        reader(caller)
        start_us, end_us = instant("start", start), instant("end", end)
        if end_us <= start_us:
            raise InvalidRequest("end: must be after start")
        rows = desk().store.tickets(opened_from_us=start_us, opened_until_us=end_us, limit=100_000)
        where = sites()
        text = tickets_csv(sorted((t for t in rows if sees_ticket(caller.principal, t, where)), key=lambda t: t.id))
        name = "vigil-tickets.csv"
        return Response(text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @router.post("/tickets", response_model=TicketOut, status_code=201, summary="Open a ticket by hand")
    def open_ticket(body: TicketOpenIn, caller: Caller = Depends(api.auth)) -> TicketOut:
        if not may_work(caller.principal):
            api.gate.refused(caller.principal, "open a ticket", caller.client)
            raise Forbidden("you may not open maintenance tickets")
        if body.source not in (TicketSource.MANUAL, TicketSource.ALARM, TicketSource.INCIDENT):
            raise InvalidRequest("source: manual, alarm or incident")
        item = deps.equipment.store.get(body.equipment_id) if deps.equipment is not None else None
        if caller.principal.vendor and (item is None or item.vendor != caller.principal.vendor):
            raise InvalidRequest(f"equipment_id: no equipment with id {body.equipment_id!r} in the register")
        for camera in body.cameras:
            api.gate.camera(caller.principal, Action.HEALTH, camera, caller.client)
        ticket = desk().open(
            body.equipment_id,
            caller.username,
            kind=body.kind,
            title=body.title,
            priority=body.priority,
            cameras=body.cameras or None,
            source=body.source,
            source_ref=body.source_ref,
            note=body.note,
            client=caller.client,
        )
        return TicketOut.of(ticket)

    @router.get("/tickets/{ticket_id}", response_model=TicketDetailOut, summary="One ticket with its history")
    def ticket(ticket_id: int, caller: Caller = Depends(api.auth)) -> TicketDetailOut:
        one(ticket_id, caller)
        view = desk().view(ticket_id)
        events = [e for e in (deps.catalog.event(i) for i in view.event_ids[:100]) if e is not None]
        return TicketDetailOut(
            ticket=TicketOut.of(view.ticket),
            history=[TicketChangeOut.of(h) for h in view.history],
            events=[EventOut.of(e) for e in events],
        )

    @router.post("/tickets/{ticket_id}/acknowledge", response_model=TicketOut, summary="Acknowledge a ticket")
    def acknowledge(ticket_id: int, body: RevisionIn, caller: Caller = Depends(api.auth)) -> TicketOut:
        one(ticket_id, caller, work=True)
        return TicketOut.of(desk().acknowledge(ticket_id, caller.username, body.revision, caller.client))

    @router.post("/tickets/{ticket_id}/assign", response_model=TicketOut, summary="Give a ticket to a person or vendor")
    def assign(ticket_id: int, body: TicketAssignIn, caller: Caller = Depends(api.auth)) -> TicketOut:
        one(ticket_id, caller, work=True)
        if caller.principal.vendor and body.vendor and body.vendor != caller.principal.vendor:
            raise Forbidden("a vendor's account may not give a ticket to another vendor")
        done = desk().assign(ticket_id, caller.username, body.revision, body.assignee, body.vendor, caller.client)
        return TicketOut.of(done)

    @router.post("/tickets/{ticket_id}/start", response_model=TicketOut, summary="Work on a ticket starts")
    def start(ticket_id: int, body: RevisionIn, caller: Caller = Depends(api.auth)) -> TicketOut:
        one(ticket_id, caller, work=True)
        return TicketOut.of(desk().start(ticket_id, caller.username, body.revision, caller.client))

    @router.post("/tickets/{ticket_id}/wait", response_model=TicketOut, summary="A ticket waits for parts or a vendor")
    def wait(ticket_id: int, body: TicketWaitIn, caller: Caller = Depends(api.auth)) -> TicketOut:
        one(ticket_id, caller, work=True)
        return TicketOut.of(desk().wait(ticket_id, caller.username, body.revision, body.why, caller.client))

    @router.post(
        "/tickets/{ticket_id}/resolve",
        response_model=TicketOut,
        summary="Say a ticket is fixed (Vigil then verifies it: the picture must stay healthy)",
    )
    def resolve(ticket_id: int, body: TicketResolveIn, caller: Caller = Depends(api.auth)) -> TicketOut:
        one(ticket_id, caller, work=True)
        done = desk().resolve(
            ticket_id,
            caller.username,
            body.revision,
            body.work_done,
            body.parts,
            body.time_spent_min,
            body.note,
            caller.client,
        )
        return TicketOut.of(done)

    @router.post("/tickets/{ticket_id}/close", response_model=TicketOut, summary="Close a verified ticket")
    def close(ticket_id: int, body: RevisionIn, caller: Caller = Depends(api.auth)) -> TicketOut:
        one(ticket_id, caller, work=True)
        return TicketOut.of(desk().close(ticket_id, caller.username, body.revision, caller.client))

    @router.post("/tickets/{ticket_id}/reopen", response_model=TicketOut, summary="Reopen a ticket (work goes on)")
    def reopen(ticket_id: int, body: TicketReopenIn, caller: Caller = Depends(api.auth)) -> TicketOut:
        one(ticket_id, caller, work=True)
        return TicketOut.of(desk().reopen(ticket_id, caller.username, body.revision, body.why, caller.client))

    @router.patch("/tickets/{ticket_id}", response_model=TicketOut, summary="Change a ticket's details")
    def edit(ticket_id: int, body: TicketEditIn, caller: Caller = Depends(api.auth)) -> TicketOut:
        one(ticket_id, caller, work=True)
        done = desk().edit(
            ticket_id,
            caller.username,
            body.revision,
            priority=body.priority,
            work_done=body.work_done,
            parts=body.parts,
            time_spent_min=body.time_spent_min,
            vendor_ref=body.vendor_ref,
            client=caller.client,
        )
        return TicketOut.of(done)

    @router.post("/tickets/{ticket_id}/notes", response_model=TicketChangeOut, status_code=201, summary="Add a note")
    def note(ticket_id: int, body: TicketNoteIn, caller: Caller = Depends(api.auth)) -> TicketChangeOut:
        one(ticket_id, caller, work=True)
        return TicketChangeOut.of(desk().note(ticket_id, caller.username, body.text, caller.client))

    @router.post(
        "/tickets/{ticket_id}/window",
        response_model=WindowOut,
        status_code=201,
        summary="Plan a maintenance window for the ticket's cameras (alarms suppressed; downtime counted as planned)",
    )
    def window(ticket_id: int, body: TicketWindowIn, caller: Caller = Depends(api.auth)) -> WindowOut:
        ticket = one(ticket_id, caller, work=True)
        for camera in ticket.cameras:
            api.gate.camera(caller.principal, Action.HEALTH, camera, caller.client)
        start_us, end_us = instant("start", body.start), instant("end", body.end)
        placed = desk().plan_window(ticket_id, caller.username, start_us, end_us, body.reason, caller.client)
        return WindowOut(suppression_id=placed.id, cameras=list(placed.cameras), start_us=start_us, end_us=end_us)

    @router.get(
        "/tickets/{ticket_id}/pictures/{which}",
        summary="The ticket's last good picture or the faulty one (privacy masks filled in for a caller without "
        "view_unmasked; a technician only while the ticket is open and theirs)",
        responses={200: {"content": {"image/jpeg": {}}}},
    )
    async def picture(ticket_id: int, which: str, caller: Caller = Depends(api.auth)) -> Response:
        ticket = one(ticket_id, caller)
        if which not in ("good", "fault"):
            raise NotFound("no such picture (good or fault)")
        camera = ticket.cameras[0] if ticket.cameras else None
        masked = False
        if camera is not None:
            action = Action.LIVE if caller.principal.role is Role.TECHNICIAN else Action.EVENTS
            cam = api.gate.camera(caller.principal, action, camera, caller.client)
            masks = api.gate.masks(caller.principal, cam)
        else:
            masks = ()
        data = await asyncio.to_thread(desk().picture, ticket_id, which)
        if masks:
            if deps.mask_picture is None:
                raise Forbidden("this node cannot burn privacy masks into pictures")
            data = await asyncio.to_thread(deps.mask_picture, data, masks)
            masked = True
        api.gate.witness(
            caller.principal,
            AuditAction.SNAPSHOT_VIEW,
            caller.client,
            camera_id=camera,
            detail={"ticket": ticket_id, "picture": which, "masked": masked},
        )
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})

    return router
