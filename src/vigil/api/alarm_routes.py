"""Alarms: the queue (priority, then age) and the history, one alarm with its events, acknowledge, assign, resolve
(on the cameras the caller may see events of); suppressions (maintenance, disarmed cameras) placed and lifted by
operators on their cameras and by admins anywhere."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from vigil.api.alarm_schemas import (
    AlarmChangeOut,
    AlarmDetailOut,
    AlarmOut,
    AssignIn,
    LiftIn,
    ResolveIn,
    SuppressionIn,
    SuppressionOut,
)
from vigil.api.auth import Caller
from vigil.api.context import Api, Cursor, Limit, instant, next_offset, offset_of
from vigil.api.schemas import EventOut, Page
from vigil.domain.access import Action
from vigil.domain.alarms import OPEN_STATES, Alarm, AlarmState
from vigil.domain.errors import Forbidden, InvalidRequest, NotFound
from vigil.usecases.alarm_desk import AlarmDesk

StateQuery = Annotated[
    str | None,
    Query(
        max_length=100,
        description="Comma-separated states (new, acknowledged, assigned, resolved, suppressed); "
        "default: the open ones (new, acknowledged, assigned)",
    ),
]


def alarm_router(api: Api) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["alarms"])
    deps = api.deps

    def desk() -> AlarmDesk:
        if deps.alarms is None:
            raise NotFound("this node raises no alarms")
        return deps.alarms

    def visible(caller: Caller) -> list[str]:
        return [c.id for c in api.gate.cameras(caller.principal, Action.EVENTS)]

    def one(alarm_id: int, caller: Caller) -> Alarm:
        alarm = desk().store.alarm(alarm_id)
        if alarm is None:
            raise NotFound(f"no alarm with id {alarm_id}")
        if alarm.camera_id is None:
            api.gate.require(caller.principal, Action.EVENTS, caller.client, f"see alarm {alarm_id}")
        else:
            api.gate.camera(caller.principal, Action.EVENTS, alarm.camera_id, caller.client)
        return alarm

    def states_of(text: str | None) -> list[str]:
        if not text:
            return sorted(OPEN_STATES)
        states = [s.strip() for s in text.split(",") if s.strip()]
        unknown = sorted(set(states) - set(AlarmState))
        if unknown:
            raise InvalidRequest(f"state: {unknown[0]!r} is not one of {', '.join(AlarmState)}")
        return states

    @router.get("/alarms", response_model=Page[AlarmOut], summary="Alarms: the queue (open ones, priority then age)")
    def alarms(
        state: StateQuery = None,
        camera: Annotated[str | None, Query(max_length=64)] = None,
        order: Annotated[str, Query(pattern="^(queue|newest)$", description="queue or newest")] = "queue",
        limit: Limit = 100,
        cursor: Cursor = None,
        caller: Caller = Depends(api.auth),
    ) -> Page[AlarmOut]:
        api.gate.require(caller.principal, Action.EVENTS, caller.client, "see alarms")
        if camera is not None:
            api.gate.camera(caller.principal, Action.EVENTS, camera, caller.client)
        offset = offset_of(cursor)
        rows = desk().store.alarms(
            states=states_of(state),
            camera_ids=[camera] if camera is not None else visible(caller),
            include_node=camera is None,
            queue=order == "queue",
            limit=limit,
            offset=offset,
        )
        return Page(items=[AlarmOut.of(a) for a in rows], next_cursor=next_offset(offset, limit, len(rows)))

    @router.get("/alarms/{alarm_id}", response_model=AlarmDetailOut, summary="One alarm with its history and events")
    def alarm(alarm_id: int, caller: Caller = Depends(api.auth)) -> AlarmDetailOut:
        found = one(alarm_id, caller)
        store = desk().store
        events = [e for e in (deps.catalog.event(i) for i in store.event_ids(alarm_id)[:100]) if e is not None]
        return AlarmDetailOut(
            alarm=AlarmOut.of(found),
            history=[AlarmChangeOut.of(h) for h in store.history(alarm_id)],
            events=[EventOut.of(e) for e in events],
        )

    @router.post("/alarms/{alarm_id}/acknowledge", response_model=AlarmOut, summary="Acknowledge an alarm")
    def acknowledge(alarm_id: int, caller: Caller = Depends(api.auth)) -> AlarmOut:
        one(alarm_id, caller)
        return AlarmOut.of(desk().acknowledge(alarm_id, caller.username, caller.client))

    @router.post("/alarms/{alarm_id}/assign", response_model=AlarmOut, summary="Give an alarm to someone")
    def assign(alarm_id: int, body: AssignIn, caller: Caller = Depends(api.auth)) -> AlarmOut:
        one(alarm_id, caller)
        return AlarmOut.of(desk().assign(alarm_id, body.to, caller.username, caller.client))

    @router.post("/alarms/{alarm_id}/resolve", response_model=AlarmOut, summary="Resolve an alarm with its outcome")
    def resolve(alarm_id: int, body: ResolveIn, caller: Caller = Depends(api.auth)) -> AlarmOut:
        one(alarm_id, caller)
        return AlarmOut.of(desk().resolve(alarm_id, body.outcome, caller.username, body.note, caller.client))

    # --- suppressions ----------------------------------------------------------------------------------------------
    def may_suppress(caller: Caller, cameras: list[str]) -> None:
        if not cameras:
            api.gate.require(caller.principal, Action.ADMIN, caller.client, "suppress the alarms of every camera")
        for camera_id in cameras:
            api.gate.camera(caller.principal, Action.EVENTS, camera_id, caller.client)

    @router.get("/suppressions", response_model=Page[SuppressionOut], summary="Alarm suppressions, newest first")
    def suppressions(
        active: Annotated[bool, Query(description="Only those in force or still to come")] = True,
        limit: Limit = 100,
        cursor: Cursor = None,
        caller: Caller = Depends(api.auth),
    ) -> Page[SuppressionOut]:
        api.gate.require(caller.principal, Action.EVENTS, caller.client, "see alarm suppressions")
        offset = offset_of(cursor)
        now = deps.clock.now_us() if active else None
        rows = desk().store.suppressions(active_at_us=now, limit=limit, offset=offset)
        return Page(items=[SuppressionOut.of(s) for s in rows], next_cursor=next_offset(offset, limit, len(rows)))

    @router.post("/suppressions", response_model=SuppressionOut, status_code=201, summary="Suppress alarms")
    def suppress(body: SuppressionIn, caller: Caller = Depends(api.auth)) -> SuppressionOut:
        may_suppress(caller, body.cameras)
        start = instant("start", str(body.start)) if body.start is not None else None
        end = instant("end", str(body.end)) if body.end is not None else None
        placed = desk().suppress(body.kind, body.cameras, start, end, body.reason, caller.username, caller.client)
        return SuppressionOut.of(placed)

    @router.post("/suppressions/{suppression_id}/lift", response_model=SuppressionOut, summary="Lift a suppression")
    def lift(suppression_id: int, body: LiftIn, caller: Caller = Depends(api.auth)) -> SuppressionOut:
        found = desk().store.suppression(suppression_id)
        if found is None:
            raise NotFound(f"no suppression with id {suppression_id}")
        try:
            may_suppress(caller, list(found.cameras))
        except Forbidden:
            raise Forbidden(f"you may not lift suppression {suppression_id}") from None
        return SuppressionOut.of(desk().lift(suppression_id, body.reason, caller.username, caller.client))

    return router
