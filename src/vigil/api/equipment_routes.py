"""The equipment register: every record with its status and open tickets, one record with its history, documents,
links and tickets; equipment added, changed (naming the revision seen) and taken out; documents uploaded (checked by
their bytes, at most ``maintenance.documents_max_bytes``), read and removed; a camera's device replaced; the register
as CSV. Who sees which record: ``usecases.maintenance_access``."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from vigil.api.auth import Caller
from vigil.api.context import Api
from vigil.api.maintenance_schemas import (
    DocumentOut,
    EquipmentChangeOut,
    EquipmentDetailOut,
    EquipmentIn,
    EquipmentOut,
    EquipmentPatchIn,
    ReplaceIn,
    TicketOut,
    ViewMatchOut,
)
from vigil.api.schemas import Page
from vigil.domain.access import Action
from vigil.domain.audit import AuditAction
from vigil.domain.equipment import Equipment, EquipmentKind, downstream, upstream
from vigil.domain.errors import Forbidden, InvalidRequest, NotFound
from vigil.usecases.equipment_register import EquipmentRegister, with_values
from vigil.usecases.maintenance_access import may_read, may_work, sees_equipment, sees_ticket
from vigil.usecases.status import stream_state

CSV_FIELDS = (
    "id",
    "kind",
    "name",
    "site",
    "location",
    "model",
    "serial",
    "firmware",
    "ip",
    "mac",
    "vendor",
    "installed",
    "warranty_end",
    "depends_on",
    "status",
    "open_tickets",
)


def equipment_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["equipment"])
    deps = api.deps

    def register() -> EquipmentRegister:
        if deps.equipment is None:
            raise NotFound("this node keeps no equipment register")
        return deps.equipment

    def reader(caller: Caller) -> None:
        if not may_read(caller.principal):
            api.gate.refused(caller.principal, "see the equipment register", caller.client)
            raise Forbidden("you may not see the equipment register")

    def worker(caller: Caller, what: str) -> None:
        if not may_work(caller.principal):
            api.gate.refused(caller.principal, what, caller.client)
            raise Forbidden(f"you may not {what}")

    def one(equipment_id: str, caller: Caller) -> Equipment:
        reader(caller)
        item = register().store.get(equipment_id)
        if item is None or not sees_equipment(caller.principal, item):
            raise NotFound(f"no equipment with id {equipment_id!r}")
        return item

    def statuses() -> tuple[dict[str, str], dict[str, int]]:
        """Each record's status and its count of open tickets."""
        now = deps.clock.now_us()
        health = {h.camera_id: h for h in deps.catalog.health() if h.stream == "main"}
        faulted = {e.camera_id for e in deps.catalog.open_events(["fault", "camera_offline"]) if e.camera_id}
        open_count: dict[str, int] = {}
        if deps.tickets is not None:
            for t in deps.tickets.store.unverified():
                for ident in {t.equipment_id, *t.cameras}:
                    open_count[ident] = open_count.get(ident, 0) + 1
        status: dict[str, str] = {}
        for item in register().store.all(include_removed=True):
            if item.removed_us is not None:
                status[item.id] = "removed"
            elif item.kind is EquipmentKind.CAMERA:
                state = stream_state(health.get(item.id), now)
                if state == "recording" and item.id in faulted:
                    state = "fault"
                status[item.id] = state
            else:
                status[item.id] = "maintenance" if open_count.get(item.id) else "ok"
        return status, open_count

    def out(item: Equipment, status: dict[str, str], counts: dict[str, int]) -> EquipmentOut:
        return EquipmentOut.of(item, status.get(item.id, ""), counts.get(item.id, 0))

    @router.get("/equipment", response_model=Page[EquipmentOut], summary="The equipment register with status")
    def equipment(
        kind: Annotated[str | None, Query(max_length=16)] = None,
        include_removed: bool = False,
        caller: Caller = Depends(api.auth),
    ) -> Page[EquipmentOut]:
        reader(caller)
        status, counts = statuses()
        items = [
            e
            for e in register().all(include_removed=include_removed)
            if sees_equipment(caller.principal, e) and (kind is None or e.kind.value == kind)
        ]
        return Page(items=[out(e, status, counts) for e in items], next_cursor=None)

    @router.get("/equipment.csv", summary="The equipment register as CSV")
    def equipment_file(caller: Caller = Depends(api.auth)) -> Response:
        reader(caller)
        status, counts = statuses()
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(CSV_FIELDS)
        for e in register().all(include_removed=True):
            if not sees_equipment(caller.principal, e):
                continue
            links = " ".join(f"{d.equipment_id}@{d.port}" if d.port else d.equipment_id for d in e.depends_on)
            writer.writerow(
                [
                    e.id,
                    e.kind.value,
                    e.name,
                    e.site,
                    e.location,
                    e.model,
                    e.serial,
                    e.firmware,
                    e.ip,
                    e.mac,
                    e.vendor,
                    e.installed,
                    e.warranty_end,
                    links,
                    status.get(e.id, ""),
                    counts.get(e.id, 0),
                ]
            )
        headers = {"Content-Disposition": 'attachment; filename="vigil-equipment.csv"'}
        return Response(buf.getvalue(), media_type="text/csv", headers=headers)

    @router.post("/equipment", response_model=EquipmentOut, status_code=201, summary="Register equipment")
    def add(body: EquipmentIn, caller: Caller = Depends(api.auth)) -> EquipmentOut:
        worker(caller, "add equipment")
        if caller.principal.vendor:
            raise Forbidden("a vendor's account may not add equipment")
        try:
            kind = EquipmentKind(body.kind)
        except ValueError:
            raise InvalidRequest(f"kind: {body.kind!r} is not one of {', '.join(EquipmentKind)}") from None
        item = with_values(Equipment(body.id.strip(), kind, body.name), body.values)
        stored = register().add(item, caller.username, caller.client)
        status, counts = statuses()
        return out(stored, status, counts)

    @router.get("/equipment/{equipment_id}", response_model=EquipmentDetailOut, summary="One record, in full")
    def record(equipment_id: str, caller: Caller = Depends(api.auth)) -> EquipmentDetailOut:
        item = one(equipment_id, caller)
        reg = register()
        graph = reg.graph()
        status, counts = statuses()
        tickets = []
        if deps.tickets is not None:
            sites = {c.id: c.site for c in deps.config.cameras}
            found = deps.tickets.store.tickets(equipment_ids=[equipment_id], limit=50)
            if item.kind is EquipmentKind.CAMERA:
                found = sorted(
                    {t.id: t for t in [*found, *deps.tickets.store.tickets(camera_id=equipment_id, limit=50)]}.values(),
                    key=lambda t: -t.id,
                )[:50]
            tickets = [TicketOut.of(t) for t in found if sees_ticket(caller.principal, t, sites)]
        return EquipmentDetailOut(
            equipment=out(item, status, counts),
            history=[EquipmentChangeOut.of(h) for h in reg.history(equipment_id)],
            documents=[DocumentOut.of(d) for d in reg.documents(equipment_id)],
            upstream=upstream(graph, equipment_id),
            dependents=sorted(downstream(graph, equipment_id)),
            tickets=tickets,
        )

    @router.patch("/equipment/{equipment_id}", response_model=EquipmentOut, summary="Change a record")
    def change(equipment_id: str, body: EquipmentPatchIn, caller: Caller = Depends(api.auth)) -> EquipmentOut:
        one(equipment_id, caller)
        worker(caller, f"change equipment {equipment_id}")
        if caller.principal.vendor and "vendor" in body.values:
            raise Forbidden("a vendor's account may not change who maintains equipment")
        stored = register().change(equipment_id, body.values, body.revision, caller.username, caller.client)
        status, counts = statuses()
        return out(stored, status, counts)

    @router.delete("/equipment/{equipment_id}", response_model=EquipmentOut, summary="Take equipment out of service")
    def remove(
        equipment_id: str,
        reason: Annotated[str, Query(min_length=1, max_length=500)],
        caller: Caller = Depends(api.auth),
    ) -> EquipmentOut:
        one(equipment_id, caller)
        worker(caller, f"remove equipment {equipment_id}")
        if caller.principal.vendor:
            raise Forbidden("a vendor's account may not take equipment out of service")
        stored = register().remove(equipment_id, caller.username, reason, caller.client)
        status, counts = statuses()
        return out(stored, status, counts)

    @router.post(
        "/equipment/{equipment_id}/documents",
        response_model=DocumentOut,
        status_code=201,
        summary="Keep a document with a record (the request's body is the file; PDF, PNG, JPEG, WebP or text)",
        openapi_extra={"requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string"}}}}},
    )
    async def upload(
        equipment_id: str,
        request: Request,
        name: Annotated[str, Query(min_length=1, max_length=200, description="The file's name")],
        caller: Caller = Depends(api.auth),
    ) -> DocumentOut:
        one(equipment_id, caller)
        worker(caller, f"add a document to {equipment_id}")
        limit = register().documents_max_bytes
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > limit:
                raise InvalidRequest(f"{name!r} is larger than {limit} bytes, the most a document may be")
        return DocumentOut.of(register().add_document(equipment_id, name, bytes(data), caller.username, caller.client))

    @router.get(
        "/equipment/{equipment_id}/documents/{document_id}",
        summary="A document's file",
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    def document(equipment_id: str, document_id: int, caller: Caller = Depends(api.auth)) -> Response:
        one(equipment_id, caller)
        doc, data = register().document(equipment_id, document_id)
        headers = {
            "Content-Disposition": f'attachment; filename="{doc.name.replace(chr(34), "")}"',
            "X-Content-SHA256": doc.sha256,
        }
        return Response(data, media_type=doc.content_type, headers=headers)

    @router.delete("/equipment/{equipment_id}/documents/{document_id}", status_code=204, summary="Remove a document")
    def remove_document(equipment_id: str, document_id: int, caller: Caller = Depends(api.auth)) -> Response:
        one(equipment_id, caller)
        worker(caller, f"remove a document of {equipment_id}")
        register().remove_document(equipment_id, document_id, caller.username, caller.client)
        return Response(status_code=204)

    @router.post(
        "/cameras/{camera_id}/replace",
        response_model=EquipmentOut,
        summary="A camera's device replaced: it keeps its id, recordings, rules, zones and masks",
    )
    def replace(camera_id: str, body: ReplaceIn, caller: Caller = Depends(api.auth)) -> EquipmentOut:
        one(camera_id, caller)
        worker(caller, f"replace camera {camera_id}")
        api.gate.camera(caller.principal, Action.HEALTH, camera_id, caller.client)
        stored = register().replace_device(
            camera_id,
            body.device,
            body.reason,
            caller.username,
            ticket_id=body.ticket_id,
            revision=body.revision,
            client=caller.client,
        )
        if deps.on_replaced is not None:
            deps.on_replaced(camera_id, body.ticket_id)
        status, counts = statuses()
        return out(stored, status, counts)

    @router.get(
        "/cameras/{camera_id}/view-match",
        response_model=ViewMatchOut,
        summary="A replaced camera's view against its old one: shift, rotation, zoom, overlap, shapes moved",
    )
    async def view_match(camera_id: str, caller: Caller = Depends(api.auth)) -> ViewMatchOut:
        worker(caller, f"compare the view of camera {camera_id}")
        api.gate.camera(caller.principal, Action.HEALTH, camera_id, caller.client)
        if deps.view_match is None:
            raise NotFound("this node does not compare views")
        report = await asyncio.to_thread(deps.view_match, camera_id)
        m = report.match
        return ViewMatchOut(
            verdict=m.verdict,
            matched=m.matched,
            inliers=m.inliers,
            shift_x=m.shift_x,
            shift_y=m.shift_y,
            rotation_deg=m.rotation_deg,
            zoom=m.zoom,
            overlap=m.overlap,
            reason=m.reason,
            proposed=report.proposed,
            settings_revision=report.settings_revision,
        )

    @router.get(
        "/cameras/{camera_id}/old-view.jpg",
        summary="A replaced camera's old view, the picture the new one is compared with (masks filled in as usual)",
        responses={200: {"content": {"image/jpeg": {}}}},
    )
    async def old_view(camera_id: str, caller: Caller = Depends(api.auth)) -> Response:
        cam = api.gate.camera(caller.principal, Action.LIVE, camera_id, caller.client)
        files = register().files
        data = await asyncio.to_thread(files.reference, camera_id)
        if data is None:
            raise NotFound(f"camera {camera_id!r} has no old view (its device was not replaced)")
        masks = api.gate.masks(caller.principal, cam)
        if masks:
            if deps.mask_picture is None:
                raise Forbidden("this node cannot burn privacy masks into pictures")
            data = await asyncio.to_thread(deps.mask_picture, data, masks)
        api.gate.witness(
            caller.principal,
            AuditAction.SNAPSHOT_VIEW,
            caller.client,
            camera_id=camera_id,
            detail={"what": "old view", "masked": bool(masks)},
        )
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    return router
