"""The inspection clerk: keeps one inspection due per camera and schedule (``maintenance.inspections``), opens a
ticket when one is overdue, and records an inspection done (each item ok or not, the camera's picture then, who),
opening a ticket for what was found wrong. Doing it is audited (``ticket``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from vigil.config.models import Config
from vigil.domain.audit import SYSTEM_ACTOR, AuditAction
from vigil.domain.errors import Conflict, InvalidRequest, NotFound, VigilError
from vigil.domain.inspections import (
    Inspection,
    InspectionState,
    Schedule,
    check_answers,
    first_due_us,
    next_due_us,
)
from vigil.domain.tickets import TicketKind, TicketSource, WorkDone
from vigil.ports import AuditLog, Clock, InspectionStore, MaintenanceFileStore
from vigil.usecases.ticket_desk import TicketDesk

log = logging.getLogger(__name__)


class InspectionClerk:
    def __init__(
        self,
        store: InspectionStore,
        desk: TicketDesk,
        files: MaintenanceFileStore,
        audit: AuditLog,
        clock: Clock,
        config: Callable[[], Config],
    ) -> None:
        self.store, self.desk, self.files, self.audit, self.clock = store, desk, files, audit, clock
        self.config = config

    def schedules(self) -> dict[str, Schedule]:
        return {i.name: i.schedule() for i in self.config().maintenance.inspections}

    def tick(self) -> list[Inspection]:
        """Make every covered camera's next inspection due, drop those no schedule covers any more, and open a
        ticket for each one overdue; the inspections changed."""
        now = self.clock.now_us()
        config = self.config()
        schedules = self.schedules()
        out: list[Inspection] = []
        for schedule in schedules.values():
            for cam in config.cameras:
                if not cam.enabled or not schedule.covers(cam.id, cam.site):
                    continue
                last = self.store.latest(schedule.name, cam.id)
                if last is None or last.state is not InspectionState.DUE:
                    due = first_due_us(now, schedule.every_days) if last is None or last.done_us is None else None
                    if due is None:
                        assert last is not None and last.done_us is not None
                        due = next_due_us(last.done_us, schedule.every_days)
                    out.append(self.store.add(Inspection(0, schedule.name, cam.id, due, InspectionState.DUE)))
        for due_one in self.store.list(InspectionState.DUE.value):
            plan = schedules.get(due_one.name)
            where = config.camera(due_one.camera_id)
            if plan is None or where is None or not plan.covers(where.id, where.site):
                out.append(self.store.update(replace(due_one, state=InspectionState.DROPPED), InspectionState.DUE))
            elif due_one.overdue(now, plan.grace_days) and due_one.ticket_id is None:
                out.append(self._overdue(due_one, plan))
        return out

    def _overdue(self, inspection: Inspection, schedule: Schedule) -> Inspection:
        ticket = self.desk.open(
            inspection.camera_id,
            SYSTEM_ACTOR,
            kind=TicketKind.INSPECTION.value,
            title=f"{inspection.camera_id}: inspection '{schedule.name}' overdue",
            source=TicketSource.INSPECTION.value,
            source_ref=f"inspection:{inspection.id}",
            note=f"due {inspection.due_us}, {schedule.grace_days:g} days of grace passed: " + ", ".join(schedule.items),
            client="inspections",
        )
        log.info("camera=%s: inspection %s overdue: ticket %s", inspection.camera_id, inspection.id, ticket.id)
        return self.store.update(replace(inspection, ticket_id=ticket.id), InspectionState.DUE)

    def due(self) -> list[Inspection]:
        return self.store.list(InspectionState.DUE.value)

    def get(self, inspection_id: int) -> Inspection:
        found = self.store.get(inspection_id)
        if found is None:
            raise NotFound(f"no inspection with id {inspection_id}")
        return found

    def done(
        self,
        inspection_id: int,
        by: str,
        answers: Sequence[Mapping[str, object]],
        picture: bytes | None,
        client: str = "",
    ) -> Inspection:
        """Record the inspection done with its answers and the camera's picture now; what was not ok opens a ticket
        (one, listing the items), an overdue ticket is resolved; the next one falls due (at the next ``tick``)."""
        inspection = self.get(inspection_id)
        if inspection.state is not InspectionState.DUE:
            raise Conflict(f"inspection {inspection_id} is {inspection.state.value} already")
        schedule = self.schedules().get(inspection.name)
        if schedule is None:
            raise InvalidRequest(f"the schedule {inspection.name!r} is no longer in the configuration")
        given = check_answers(schedule.items, answers)
        now = self.clock.now_us()
        relpath = self.files.put_inspection_picture(inspection_id, picture) if picture else ""
        ticket_id = inspection.ticket_id
        if inspection.ticket_id is not None:
            self._resolve_overdue(inspection.ticket_id, by)
        wrong = [a for a in given if not a.ok]
        if wrong:
            found = self.desk.open(
                inspection.camera_id,
                by,
                kind=TicketKind.INSPECTION.value,
                title=f"{inspection.camera_id}: found in inspection '{schedule.name}'",
                source=TicketSource.INSPECTION.value,
                source_ref=f"inspection:{inspection.id}",
                note="; ".join(f"{a.item}: {a.note}" for a in wrong),
                client=client,
            )
            ticket_id = found.id
        done = replace(
            inspection,
            state=InspectionState.DONE,
            done_us=now,
            done_by=by,
            answers=given,
            picture=relpath,
            ticket_id=ticket_id,
        )
        stored = self.store.update(done, InspectionState.DUE)
        self.audit.append(
            now,
            by,
            AuditAction.TICKET,
            camera_id=inspection.camera_id,
            client=client,
            detail={
                "inspection": inspection_id,
                "change": "inspected",
                "name": inspection.name,
                "not_ok": [a.item for a in wrong],
                "ticket": ticket_id,
            },
        )
        self.tick()
        return stored

    def _resolve_overdue(self, ticket_id: int, by: str) -> None:
        try:
            self.desk.resolve(ticket_id, by, None, [WorkDone.OTHER.value], note="the inspection was done")
        except VigilError:
            log.info("ticket %s (an overdue inspection) was not resolved: it is past that", ticket_id)
