"""Storage beyond the tiers' status: the node's backups (ADR 0018), and early deletions (ADR 0017): an admin asks for
a camera's footage in a range to be destroyed before its time, with a reason; an auditor (a user with the auditor
role, not the one who asked) approves, and the footage is deleted from every tier, or refuses with why; the admin
who asked may cancel. Admins and auditors list them. Every step is in the audit log and approved deletions are in
the period's destruction certificate."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from vigil.api.auth import Caller
from vigil.api.context import Api, Cursor, Limit, instant, next_offset, offset_of
from vigil.api.schemas import Page
from vigil.domain.access import Action, Role
from vigil.domain.early_deletion import DeletionRequest, DeletionState
from vigil.domain.errors import Forbidden, NotFound, VigilError
from vigil.usecases.early_deletion import DeletionDesk, document


class DeletionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    camera: str = Field(max_length=64, description="The camera whose footage must go")
    start: datetime | int
    end: datetime | int
    reason: str = Field(max_length=2000, description="Why before its time (a court order, a private place recorded)")


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000, description="What was checked; why refused (required to refuse)")


class BackupsOut(BaseModel):
    tier: str | None = Field(description="storage.backup.tier (none: the node makes no backups)")
    every_hours: float
    with_key: bool = Field(description="The passphrase is set: backups hold the sealed site key")
    names: list[str] = Field(description="The whole backups on the tier, oldest first (UTC times)")
    incomplete: list[str] = Field(description="Backups cut short (no manifest): never restored")
    last_s: float | None = Field(description="Seconds the last backup of this run took")
    problem: str = Field(description="Why the last backup failed (empty when it did not)")


class DeletionOut(BaseModel):
    id: int
    state: str
    request: dict[str, Any] = Field(description="Every field, times in UTC (ISO 8601)")


def storage_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1/storage", tags=["storage"])
    deps = api.deps

    def desk() -> DeletionDesk:
        if deps.deletions is None:
            raise NotFound("this node takes no deletion requests")
        return deps.deletions

    def out(r: DeletionRequest) -> DeletionOut:
        return DeletionOut(id=r.id, state=str(r.state), request=document(r))

    def when(name: str, value: datetime | int) -> int:
        return instant(name, value.isoformat() if isinstance(value, datetime) else str(value))

    def auditor(caller: Caller, what: str) -> None:
        api.gate.require(caller.principal, Action.AUDIT, caller.client, what)
        if caller.principal.role is not Role.AUDITOR:
            raise Forbidden(f"only an auditor may {what}: two people, an admin who asks and an auditor who decides")

    @router.post(
        "/deletions", response_model=DeletionOut, status_code=201, summary="Ask to delete footage before its time"
    )
    async def ask(body: DeletionIn, caller: Caller = Depends(api.auth)) -> DeletionOut:
        api.gate.require(caller.principal, Action.ADMIN, caller.client, "ask for an early deletion")
        start, end = when("start", body.start), when("end", body.end)
        made = await asyncio.to_thread(
            desk().ask, body.camera, start, end, body.reason, caller.username, client=caller.client
        )
        return out(made)

    @router.get("/backups", response_model=BackupsOut, summary="The node's backups on its backup tier")
    def backups(caller: Caller = Depends(api.auth)) -> BackupsOut:
        api.gate.require(caller.principal, Action.HEALTH, caller.client, "see the backups")
        b = deps.backups
        if b is None:
            raise NotFound("this node makes no backups")
        setting = b.config().storage.backup
        whole: list[str] = []
        incomplete: list[str] = []
        problem = b.problem
        if setting.tier is not None:
            try:
                whole, incomplete = b.listing()
            except VigilError as exc:
                problem = problem or exc.message
        return BackupsOut(
            tier=setting.tier,
            every_hours=setting.every_hours,
            with_key=b.passphrase() is not None,
            names=whole,
            incomplete=incomplete,
            last_s=b.last.seconds if b.last is not None else None,
            problem=problem,
        )

    @router.get("/deletions", response_model=Page[DeletionOut], summary="Deletion requests, newest first")
    def requests(
        state: Annotated[DeletionState | None, Query()] = None,
        limit: Limit = 100,
        cursor: Cursor = None,
        caller: Caller = Depends(api.auth),
    ) -> Page[DeletionOut]:
        api.gate.require(caller.principal, Action.AUDIT, caller.client, "see deletion requests")
        offset = offset_of(cursor)
        rows = desk().store.requests(state=state, limit=limit, offset=offset)
        return Page(items=[out(r) for r in rows], next_cursor=next_offset(offset, limit, len(rows)))

    @router.get("/deletions/{request_id}", response_model=DeletionOut, summary="One deletion request")
    def one(request_id: int, caller: Caller = Depends(api.auth)) -> DeletionOut:
        api.gate.require(caller.principal, Action.AUDIT, caller.client, "see deletion requests")
        return out(desk().store.get(request_id))

    @router.post(
        "/deletions/{request_id}/approve", response_model=DeletionOut, summary="Approve: the footage is deleted"
    )
    async def approve(request_id: int, body: DecisionIn, caller: Caller = Depends(api.auth)) -> DeletionOut:
        auditor(caller, "approve an early deletion")
        done = await asyncio.to_thread(desk().approve, request_id, caller.username, body.note, client=caller.client)
        return out(done)

    @router.post("/deletions/{request_id}/refuse", response_model=DeletionOut, summary="Refuse (with why)")
    def refuse(request_id: int, body: DecisionIn, caller: Caller = Depends(api.auth)) -> DeletionOut:
        auditor(caller, "refuse an early deletion")
        return out(desk().refuse(request_id, caller.username, body.note, client=caller.client))

    @router.post("/deletions/{request_id}/cancel", response_model=DeletionOut, summary="Cancel one's own request")
    def cancel(request_id: int, body: DecisionIn, caller: Caller = Depends(api.auth)) -> DeletionOut:
        api.gate.require(caller.principal, Action.ADMIN, caller.client, "cancel an early deletion")
        return out(desk().cancel(request_id, caller.username, body.note, client=caller.client))

    return router
