"""Requests from authorities to view or copy footage: admins record, decide, fulfil (as an evidence package) and
withdraw them; admins and auditors list them and take the report of a period (CSV). Every step is audited."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.auth import Caller
from vigil.api.context import Api, Cursor, Limit, instant, next_offset, offset_of
from vigil.api.schemas import Page
from vigil.domain.access import Action
from vigil.domain.audit import AuditAction
from vigil.domain.authority import AuthorityRequest, RequestKind, RequestState, summary
from vigil.domain.errors import InvalidRequest, NotFound
from vigil.usecases.authority_requests import AuthorityDesk, document, report_csv

Text = Annotated[str, Field(max_length=2000)]


class AuthorityRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    authority: Text = Field(description="The requesting body (police station, court, regulator)")
    officer: Text = Field(description="The person acting for it")
    officer_id: Text = Field(default="", description="Badge or warrant-card number")
    contact: Text = Field(default="")
    legal_basis: Text = Field(description="The law, order or warrant the request relies on")
    reference: Text = Field(default="", description="The authority's case or document number")
    kind: Literal["view", "copy"] = "copy"
    cameras: list[str] = Field(max_length=64)
    start: datetime | int
    end: datetime | int
    deadline: datetime | int | None = None
    received: datetime | int | None = Field(default=None, description="When it arrived (default: now)")
    notes: Text = Field(default="")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=2000)


class FulfilIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unmasked: bool = Field(
        default=False, description="The original pictures, without privacy masks (needs view_unmasked on each camera)"
    )


class AuthorityRequestOut(BaseModel):
    id: int
    state: str
    overdue: bool
    request: dict[str, Any] = Field(description="Every field, times in UTC (ISO 8601 and microseconds)")


class RequestReportOut(BaseModel):
    start: str
    end: str
    count: int
    by_state: dict[str, int]
    by_authority: dict[str, int]
    overdue: int
    answered_late: int
    days_to_decide_median: float | None
    days_to_fulfil_median: float | None
    requests: list[AuthorityRequestOut]


def authority_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1/authority-requests", tags=["authority requests"])
    deps = api.deps

    def desk() -> AuthorityDesk:
        if deps.authority is None:
            raise NotFound("this node keeps no authority requests")
        return deps.authority

    def out(r: AuthorityRequest) -> AuthorityRequestOut:
        return AuthorityRequestOut(
            id=r.id, state=str(r.state), overdue=r.overdue(deps.clock.now_us()), request=document(r)
        )

    def when(name: str, value: datetime | int | None) -> int | None:
        return (
            None if value is None else instant(name, value.isoformat() if isinstance(value, datetime) else str(value))
        )

    def period(start: str, end: str) -> tuple[int, int]:
        start_us, end_us = instant("start", start), instant("end", end)
        if end_us <= start_us:
            raise InvalidRequest("the end of the period must be after its start")
        return start_us, end_us

    @router.post("", response_model=AuthorityRequestOut, status_code=201, summary="Record a request as received")
    def record(body: AuthorityRequestIn, caller: Caller = Depends(api.auth)) -> AuthorityRequestOut:
        api.gate.require(caller.principal, Action.ADMIN, caller.client, "record authority requests")
        received = when("received", body.received) or deps.clock.now_us()
        request = AuthorityRequest(
            id=0,
            received_us=received,
            recorded_by=caller.username,
            authority=body.authority,
            officer=body.officer,
            officer_id=body.officer_id,
            contact=body.contact,
            legal_basis=body.legal_basis,
            reference=body.reference,
            kind=RequestKind(body.kind),
            camera_ids=tuple(body.cameras),
            start_us=when("start", body.start) or 0,
            end_us=when("end", body.end) or 0,
            deadline_us=when("deadline", body.deadline),
            notes=body.notes,
        )
        return out(desk().record(request, client=caller.client))

    @router.get("", response_model=Page[AuthorityRequestOut], summary="Requests, newest received first")
    def requests(
        state: Annotated[RequestState | None, Query()] = None,
        start: str | None = None,
        end: str | None = None,
        limit: Limit = 100,
        cursor: Cursor = None,
        caller: Caller = Depends(api.auth),
    ) -> Page[AuthorityRequestOut]:
        api.gate.require(caller.principal, Action.AUDIT, caller.client, "see authority requests")
        offset = offset_of(cursor)
        rows = desk().requests(
            start_us=instant("start", start) if start else None,
            end_us=instant("end", end) if end else None,
            state=state,
            limit=limit,
            offset=offset,
        )
        return Page(items=[out(r) for r in rows], next_cursor=next_offset(offset, limit, len(rows)))

    @router.get("/report", response_model=RequestReportOut, summary="The requests received in a period")
    def report(start: str, end: str, caller: Caller = Depends(api.auth)) -> RequestReportOut:
        api.gate.require(caller.principal, Action.AUDIT, caller.client, "report on authority requests")
        start_us, end_us = period(start, end)
        found = desk().in_period(start_us, end_us)
        s = summary(found, deps.clock.now_us())
        return RequestReportOut(start=start, end=end, requests=[out(r) for r in found], **asdict(s))

    @router.get("/report.csv", summary="The requests received in a period, as CSV (audited as an export)")
    def report_file(start: str, end: str, caller: Caller = Depends(api.auth)) -> Response:
        api.gate.require(caller.principal, Action.AUDIT, caller.client, "report on authority requests")
        start_us, end_us = period(start, end)
        text = report_csv(desk().in_period(start_us, end_us), deps.clock.now_us())
        what = {"what": "authority requests report", "start": start, "end": end}
        api.gate.witness(caller.principal, AuditAction.AUDIT_EXPORT, caller.client, detail=what, once=False)
        name = "vigil-authority-requests.csv"
        return Response(text, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @router.get("/{request_id}", response_model=AuthorityRequestOut, summary="One request")
    def one(request_id: int, caller: Caller = Depends(api.auth)) -> AuthorityRequestOut:
        api.gate.require(caller.principal, Action.AUDIT, caller.client, "see authority requests")
        return out(desk().store.get(request_id))

    def decide(request_id: int, approve: bool, body: DecisionIn, caller: Caller) -> AuthorityRequestOut:
        api.gate.require(caller.principal, Action.ADMIN, caller.client, "decide authority requests")
        return out(desk().decide(request_id, approve, caller.username, body.reason, client=caller.client))

    @router.post("/{request_id}/approve", response_model=AuthorityRequestOut, summary="Approve a request")
    def approve(request_id: int, body: DecisionIn, caller: Caller = Depends(api.auth)) -> AuthorityRequestOut:
        return decide(request_id, True, body, caller)

    @router.post("/{request_id}/refuse", response_model=AuthorityRequestOut, summary="Refuse a request (with why)")
    def refuse(request_id: int, body: DecisionIn, caller: Caller = Depends(api.auth)) -> AuthorityRequestOut:
        return decide(request_id, False, body, caller)

    @router.post("/{request_id}/withdraw", response_model=AuthorityRequestOut, summary="Withdraw a request (with why)")
    def withdraw(request_id: int, body: DecisionIn, caller: Caller = Depends(api.auth)) -> AuthorityRequestOut:
        api.gate.require(caller.principal, Action.ADMIN, caller.client, "withdraw authority requests")
        return out(desk().withdraw(request_id, caller.username, body.reason, client=caller.client))

    @router.post(
        "/{request_id}/fulfil", response_model=AuthorityRequestOut, summary="Fulfil an approved request (a package)"
    )
    async def fulfil(
        request_id: int, body: FulfilIn | None = None, caller: Caller = Depends(api.auth)
    ) -> AuthorityRequestOut:
        api.gate.require(caller.principal, Action.ADMIN, caller.client, "fulfil authority requests")
        unmasked = body is not None and body.unmasked
        if unmasked:
            for camera_id in desk().store.get(request_id).camera_ids:
                api.gate.camera(caller.principal, Action.VIEW_UNMASKED, camera_id, caller.client)
        done, _ = await asyncio.to_thread(
            desk().fulfil, request_id, caller.username, client=caller.client, unmasked=unmasked
        )
        return out(done)

    return router
