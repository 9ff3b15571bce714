"""Routine inspections on a real SQLite catalog with a fake clock: each covered camera has one due; overdue past its
grace it opens a ticket; done with every item answered (the camera's picture kept) it resolves that ticket and the
next falls due a period later; an item not ok opens a ticket saying what; bad answers are refused; a camera the
schedule no longer covers has its due inspection dropped; bad schedules in vigil.yaml are refused with their path."""

import pytest
from test_ticket_engine import MAINTENANCE, Bench

from vigil.config.loader import parse_config
from vigil.domain.errors import ConfigError, Conflict, InvalidRequest
from vigil.domain.inspections import InspectionState
from vigil.storage.inspections import SqlInspections
from vigil.storage.maintenance_files import MaintenanceFiles
from vigil.usecases.inspections import InspectionClerk

DAY = 86_400
ITEMS = ["Housing", "Lens", "Picture", "Time"]
SCHEDULE = {"name": "Monthly", "items": ITEMS, "cameras": ["gate", "yard"], "every_days": 30, "grace_days": 3}


@pytest.fixture
def bench(tmp_path):
    b = Bench(tmp_path, maintenance={**MAINTENANCE, "inspections": [SCHEDULE]})
    b.clerk = InspectionClerk(
        SqlInspections(b.catalog),
        b.desk,
        MaintenanceFiles(tmp_path / "maintenance"),
        b.audit,
        b.clock,
        lambda: b.config,
    )
    yield b
    b.catalog.close()


def ok(note: str = "") -> list[dict]:
    return [{"item": i, "ok": True, "note": note} for i in ITEMS]


def test_an_inspection_falls_due_goes_overdue_and_is_done(bench: Bench) -> None:
    made = bench.clerk.tick()
    assert sorted(i.camera_id for i in made) == ["gate", "yard"] and bench.clerk.tick() == []
    gate = next(i for i in bench.clerk.due() if i.camera_id == "gate")
    assert gate.due_us == bench.clock.now + 30 * DAY * 1_000_000
    bench.clock.now += 32 * DAY * 1_000_000
    assert not [i for i in bench.clerk.tick() if i.ticket_id], "within the grace days"
    bench.clock.now += 2 * DAY * 1_000_000
    overdue = [i for i in bench.clerk.tick() if i.ticket_id]
    assert len(overdue) == 2
    ticket = bench.store.ticket(next(i for i in overdue if i.camera_id == "gate").ticket_id)
    assert ticket.kind.value == "inspection" and ticket.source == "inspection" and "overdue" in ticket.title
    done = bench.clerk.done(gate.id, "tom", ok(), b"\xff\xd8\xff fake jpeg")
    assert done.state is InspectionState.DONE and done.picture and done.done_by == "tom"
    assert bench.store.ticket(ticket.id).state.value == "resolved", "the overdue ticket is resolved by doing it"
    nxt = next(i for i in bench.clerk.due() if i.camera_id == "gate")
    assert nxt.due_us == done.done_us + 30 * DAY * 1_000_000
    with pytest.raises(Conflict):
        bench.clerk.done(gate.id, "tom", ok(), None)


def test_what_is_found_wrong_opens_a_ticket_and_bad_answers_are_refused(bench: Bench) -> None:
    bench.clerk.tick()
    yard = next(i for i in bench.clerk.due() if i.camera_id == "yard")
    answers = ok()
    answers[1] = {"item": "Lens", "ok": False, "note": ""}
    with pytest.raises(InvalidRequest, match="say what is wrong"):
        bench.clerk.done(yard.id, "tom", answers, None)
    with pytest.raises(InvalidRequest, match="'Time' is not answered"):
        bench.clerk.done(yard.id, "tom", ok()[:3], None)
    with pytest.raises(InvalidRequest, match="not an item"):
        bench.clerk.done(yard.id, "tom", [*ok(), {"item": "Paint", "ok": True}], None)
    answers[1] = {"item": "Lens", "ok": False, "note": "spider web across the lens"}
    done = bench.clerk.done(yard.id, "tom", answers, None)
    found = bench.store.ticket(done.ticket_id)
    assert found.kind.value == "inspection" and "spider web" in found.detail and found.cameras == ("yard",)
    assert [e.detail["not_ok"] for e in bench.audit.entries(action="ticket") if e.detail.get("change") == "inspected"]


def test_a_camera_no_longer_covered_has_its_inspection_dropped(bench: Bench) -> None:
    bench.clerk.tick()
    doc = bench.config.model_dump(mode="json", exclude_none=True)
    doc["maintenance"]["inspections"][0]["cameras"] = ["gate"]
    bench.config = parse_config(doc)
    changed = bench.clerk.tick()
    assert [(i.camera_id, i.state.value) for i in changed] == [("yard", "dropped")]


@pytest.mark.parametrize(
    ("schedule", "says"),
    [
        ({**SCHEDULE, "cameras": ["nowhere"]}, "no camera with id 'nowhere'"),
        ({**SCHEDULE, "items": ["Lens", " "]}, "an item must not be empty"),
        ({**SCHEDULE, "items": ["Lens", "Lens"]}, "named twice"),
        ({**SCHEDULE, "every_days": "monthly"}, "maintenance.inspections[0].every_days"),
    ],
)
def test_bad_schedules_are_refused(schedule, says) -> None:
    doc = {"cameras": [{"id": "gate", "name": "Gate", "streams": {"main": {"url": "rtsp://10.0.0.5/1"}}}],
           "maintenance": {"inspections": [schedule]}}  # fmt: skip
    with pytest.raises(ConfigError, match=says.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        parse_config(doc)
