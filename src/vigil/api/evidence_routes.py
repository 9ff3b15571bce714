"""Evidence packages (export permission on every camera, a reason and a recipient; audited) and legal holds
(admins place and lift them; admins and auditors list them). A package's pictures carry the cameras' privacy masks
unless the body asks for the original pictures and the caller may view every camera unmasked; ``redact`` also makes
a redacted package for dissemination, linked to the original."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from vigil.api.auth import Caller
from vigil.api.context import Api, Cursor, Limit, Reason, instant, next_offset, offset_of
from vigil.api.evidence_schemas import EvidenceIn, EvidenceOut, HoldIn, HoldLiftIn, HoldOut
from vigil.api.schemas import Page
from vigil.domain.access import Action
from vigil.domain.audit import AuditAction
from vigil.domain.errors import InvalidRequest, NotFound
from vigil.domain.evidence import EvidenceRequest, PackageRecord
from vigil.domain.privacy import parse_redaction
from vigil.usecases.evidence import EvidenceExporter, new_package_id
from vigil.usecases.evidence_redaction import REDACTED_SUFFIX
from vigil.usecases.legal_holds import HoldClerk
from vigil.usecases.playback import require_camera


def evidence_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["evidence"])
    deps = api.deps

    def exporter() -> tuple[EvidenceExporter, Path]:
        if deps.evidence is None or deps.evidence_dir is None:
            raise NotFound("this node makes no evidence packages")
        return deps.evidence, deps.evidence_dir

    def clerk() -> HoldClerk:
        if deps.holds is None:
            raise NotFound("this node keeps no legal holds")
        return HoldClerk(deps.holds, deps.audit, deps.clock)

    def record(package_id: str, caller: Caller) -> PackageRecord:
        found = deps.register.package(package_id) if deps.register is not None else None
        if found is None:
            raise NotFound(f"no evidence package {package_id!r}")
        for camera_id in found.cameras:
            api.gate.camera(caller.principal, Action.EXPORT, camera_id, caller.client, (found.start_us, found.end_us))
        return found

    @router.post("/evidence", response_model=EvidenceOut, status_code=201, summary="Export an evidence package")
    async def make(body: EvidenceIn, caller: Caller = Depends(api.auth)) -> EvidenceOut:
        evidence, folder = exporter()
        start_us, end_us = instant("start", str(body.start)), instant("end", str(body.end))
        if end_us <= start_us:
            raise InvalidRequest("the end of the range must be after its start")
        for camera_id in dict.fromkeys(body.cameras):
            api.gate.camera(caller.principal, Action.EXPORT, camera_id, caller.client, (start_us, end_us))
            if body.include_events:
                api.gate.camera(caller.principal, Action.EVENTS, camera_id, caller.client)
            if body.unmasked:
                api.gate.camera(caller.principal, Action.VIEW_UNMASKED, camera_id, caller.client)
        request = EvidenceRequest(
            camera_ids=tuple(body.cameras),
            start_us=start_us,
            end_us=end_us,
            reason=api.gate.reason(AuditAction.EXPORT, body.reason),
            recipient=body.recipient,
            requested_by=caller.username,
            client=caller.client,
            stream=body.stream,
            include_events=body.include_events,
            unmasked=body.unmasked,
            redact=parse_redaction(body.redact),
            redact_style=body.redact_style,
        )
        package_id = new_package_id(deps.clock.now_us())
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"{package_id}.zip"
        redacted_out = folder / f"{package_id}{REDACTED_SUFFIX}.zip"
        made = await asyncio.to_thread(evidence.export, request, out, package_id=package_id, redacted_out=redacted_out)
        result = EvidenceOut.of(made.record)
        if made.redacted is not None:
            result.redacted_package = EvidenceOut.of(made.redacted.record)
        return result

    @router.get("/evidence", response_model=Page[EvidenceOut], summary="Evidence packages, newest first")
    def packages(limit: Limit = 100, cursor: Cursor = None, caller: Caller = Depends(api.auth)) -> Page[EvidenceOut]:
        api.gate.require(caller.principal, Action.EXPORT, caller.client, "see evidence packages")
        offset = offset_of(cursor)
        rows = deps.register.packages(limit, offset) if deps.register is not None else []
        p = caller.principal
        sites = {c.id: c.site for c in deps.config.cameras}

        def visible(r: PackageRecord) -> bool:
            return all(p.may_on(Action.EXPORT, c, sites.get(c, "")) for c in r.cameras)

        items = [EvidenceOut.of(r) for r in rows if visible(r)]
        return Page(items=items, next_cursor=next_offset(offset, limit, len(rows)))

    @router.get("/evidence/{package_id}", response_model=EvidenceOut, summary="One evidence package")
    def package(package_id: str, caller: Caller = Depends(api.auth)) -> EvidenceOut:
        return EvidenceOut.of(record(package_id, caller))

    @router.get(
        "/evidence/{package_id}/package.zip",
        response_class=FileResponse,
        summary="Download an evidence package made through the API (audited as an export)",
    )
    def download(package_id: str, reason: Reason = None, caller: Caller = Depends(api.auth)) -> FileResponse:
        found = record(package_id, caller)
        why = api.gate.reason(AuditAction.EXPORT, reason)
        _, folder = exporter()
        path = Path(found.path)
        if path.parent != folder.resolve() or not path.is_file():
            raise NotFound(f"evidence package {package_id} is not kept on this node's server (it is at {path})")
        for camera_id in found.cameras:
            api.gate.witness(
                caller.principal,
                AuditAction.EXPORT,
                caller.client,
                camera_id=camera_id,
                span=(found.start_us, found.end_us),
                reason=why,
                detail={"what": "evidence package download", "package": package_id},
            )
        return FileResponse(path, media_type="application/zip", filename=f"{package_id}.zip")

    # --- legal holds --------------------------------------------------------------------------------------------
    @router.get("/holds", response_model=Page[HoldOut], tags=["legal holds"], summary="Legal holds, newest first")
    def holds(
        active: Annotated[bool, Query(description="Only the holds not lifted")] = True,
        camera: Annotated[str | None, Query(max_length=64)] = None,
        limit: Limit = 100,
        cursor: Cursor = None,
        caller: Caller = Depends(api.auth),
    ) -> Page[HoldOut]:
        api.gate.require(caller.principal, Action.AUDIT, caller.client, "see legal holds")
        offset = offset_of(cursor)
        rows = clerk().holds.holds(active_only=active, camera_id=camera, limit=limit, offset=offset)
        return Page(items=[HoldOut.of(h) for h in rows], next_cursor=next_offset(offset, limit, len(rows)))

    @router.post("/holds", response_model=HoldOut, status_code=201, tags=["legal holds"], summary="Place a hold")
    def place(body: HoldIn, caller: Caller = Depends(api.auth)) -> HoldOut:
        api.gate.require(caller.principal, Action.ADMIN, caller.client, "place legal holds")
        require_camera(deps.config, body.camera)
        start_us, end_us = instant("start", str(body.start)), instant("end", str(body.end))
        hold = clerk().place(
            body.camera, start_us, end_us, by=caller.username, reason=body.reason, client=caller.client
        )
        return HoldOut.of(hold)

    @router.post("/holds/{hold_id}/lift", response_model=HoldOut, tags=["legal holds"], summary="Lift a hold")
    def lift(hold_id: int, body: HoldLiftIn, caller: Caller = Depends(api.auth)) -> HoldOut:
        api.gate.require(caller.principal, Action.ADMIN, caller.client, "lift legal holds")
        return HoldOut.of(clerk().lift(hold_id, by=caller.username, reason=body.reason, client=caller.client))

    return router
