"""The ticket engine and desk on a real SQLite catalog and outbox with a fake clock: an outage that outlasts its
threshold opens one ticket (a blip opens none), clears, is resolved on Vigil's behalf, verified after the healthy time
and closed later; the same fault within the reopen window reopens it, after it opens a new one; cameras behind one
switch dropping together open one ticket on the switch; a resolve while the fault is still there is refused after the
grace time, with the reason; a new engine on the same catalog (a restart) resumes a verification; missed deadlines
raise ticket_overdue events and notifications; two people changing one ticket: the second is told; low frame rates
against the camera's own normal and restart loops become faults; a camera removed keeps its tickets."""

import json
from pathlib import Path

import pytest

from support.node import node_config
from vigil.config.loader import parse_config
from vigil.domain.equipment import Equipment, EquipmentKind
from vigil.domain.errors import Conflict, InvalidRequest
from vigil.domain.records import HealthRow
from vigil.domain.segment import SegmentInfo
from vigil.domain.tickets import TicketState
from vigil.notify.service import notification_router
from vigil.storage.audit_log import SqlAuditLog
from vigil.storage.catalog import SqlCatalog, sqlite_url
from vigil.storage.equipment import SqlEquipment
from vigil.storage.maintenance_files import MaintenanceFiles
from vigil.storage.outbox import SqlOutbox
from vigil.storage.tickets import SqlTickets
from vigil.usecases.equipment_register import EquipmentRegister
from vigil.usecases.notifications import Outbox
from vigil.usecases.ticket_desk import TicketDesk
from vigil.usecases.ticket_engine import TicketEngine, TicketSettings

T0 = 1_764_000_000_000_000
S = 1_000_000
CHANNELS = [{"name": "ops", "kind": "webhook", "url": "https://ops.example.com/h", "secret_env": "X"}]
MAINTENANCE = {
    "thresholds_s": {"offline": 60, "covered": 10, "low_fps": 30},
    "verify_s": 300,
    "verify_grace_s": 120,
    "reopen_window_s": 3600,
    "close_verified_after_s": 600,
    "group_window_s": 15,
    "notify": {"channels": ["ops"], "changes": ["opened", "reopened", "overdue", "verified", "not_verified"]},
    "service_levels": {2: {"respond_s": 900, "restore_s": 7200}},
}


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def now_us(self) -> int:
        return self.now


class Bench:
    def __init__(self, tmp_path: Path, cameras=("gate", "yard", "dock"), maintenance=None) -> None:
        urls = {c: f"rtsp://10.0.0.{k + 5}/1" for k, c in enumerate(cameras)}
        self.config, _ = node_config(
            tmp_path, urls, notifications={"channels": CHANNELS}, maintenance=maintenance or MAINTENANCE
        )
        self.tmp_path = tmp_path
        self.clock = Clock()
        self.open()

    def open(self) -> None:
        self.catalog = SqlCatalog(sqlite_url(self.tmp_path / "vigil.db"))
        router = notification_router(self.config, self.clock, self.tmp_path)
        self.outbox = Outbox(SqlOutbox(self.catalog), router, self.clock)
        self.audit = SqlAuditLog(self.catalog, self.tmp_path / "audit.head")
        files = MaintenanceFiles(self.tmp_path / "maintenance")
        self.register = EquipmentRegister(SqlEquipment(self.catalog), files, self.audit, self.clock)
        self.register.sync(self.config)
        self.store = SqlTickets(self.catalog)
        settings = TicketSettings.of(self.config)
        self.settings = lambda: settings
        self.engine = TicketEngine(
            self.store,
            self.catalog,
            self.register.graph,
            self.clock,
            self.settings,
            self.outbox,
            equipment_names=self.register.names,
        )
        self.desk = TicketDesk(
            self.store, SqlEquipment(self.catalog), files, self.audit, self.clock, self.settings, self.outbox
        )

    def later(self, seconds: float) -> list:
        self.clock.now += int(seconds * S)
        return self.engine.tick()

    def offline(self, camera: str, at: int | None = None) -> int:
        at = self.clock.now if at is None else at
        return self.catalog.add_event("camera_offline", at, f"Camera {camera} offline", camera_id=camera, stream="main")

    def online(self, event_id: int) -> None:
        self.catalog.end_event(event_id, self.clock.now)

    def fault(self, camera: str, kind: str) -> int:
        data = {"fault": kind, "key": f"fault:{kind}"}
        return self.catalog.add_event("fault", self.clock.now, f"{kind} lens", camera_id=camera, data=data)

    def notices(self):
        rows = reversed(self.outbox.list(limit=1000))
        return [json.loads(self.outbox.store.notification(v.notification.id).payload) for v in rows]


@pytest.fixture
def bench(tmp_path):
    b = Bench(tmp_path)
    yield b
    b.catalog.close()


def test_an_outage_past_its_threshold_opens_one_ticket_that_is_verified_and_closed(bench: Bench) -> None:
    blip = bench.offline("gate")
    bench.later(30)
    bench.online(blip)  # 30 s: under the 60 s threshold
    assert bench.later(60) == [] and bench.store.count() == 0
    down = bench.offline("gate")
    bench.later(59)
    assert bench.store.count() == 0
    [opened] = bench.later(2)
    assert (opened.state, opened.equipment_id, opened.kind.value, opened.cameras) == (
        "open",
        "gate",
        "offline",
        ("gate",),
    )
    assert opened.first_seen_us == bench.clock.now - 61 * S and opened.title == "Gate: offline"
    assert bench.store.event_ids(opened.id) == [down]
    bench.later(30)
    assert bench.store.count() == 1, "one ticket per episode, not one per look"
    bench.online(down)
    [cleared] = bench.later(1)
    assert cleared.state is TicketState.RESOLVED and cleared.resolved_by == "system"
    bench.later(298)  # healthy since it came back, 299 s ago
    assert bench.store.ticket(opened.id).state is TicketState.RESOLVED
    [done] = bench.later(1)
    assert done.state is TicketState.VERIFIED
    [closed] = bench.later(600)
    assert closed.state is TicketState.CLOSED and closed.closed_by == "system"
    changes = [h.change for h in bench.store.history(opened.id)]
    assert changes == ["opened", "fault_cleared", "verified", "closed"]
    told = [(n["change"], n["ticket"]["id"]) for n in bench.notices() if n["kind"] == "ticket"]
    assert told == [("opened", opened.id), ("verified", opened.id)]


def test_the_same_fault_again_reopens_within_the_window_and_opens_anew_after_it(bench: Bench) -> None:
    first = bench.offline("yard")
    [t] = bench.later(61)
    bench.online(first)
    bench.later(1)
    bench.later(301)
    assert bench.store.ticket(t.id).state is TicketState.VERIFIED
    again = bench.offline("yard")
    [back] = bench.later(61)
    assert back.id == t.id and back.state is TicketState.OPEN and back.reopened == 1
    assert bench.store.event_ids(t.id) == sorted([first, again])
    bench.online(again)
    bench.later(1)
    bench.later(301)
    bench.later(601)  # closed
    bench.later(3600)  # the reopen window passes
    bench.offline("yard")
    [new] = bench.later(61)
    assert new.id != t.id and bench.store.count() == 2


def test_cameras_behind_one_switch_dropping_together_open_one_ticket_on_the_switch(bench: Bench) -> None:
    sw = bench.register.add(Equipment("sw-1", EquipmentKind.SWITCH, "Lobby switch"), "ana")
    for port, cam in enumerate(("gate", "yard")):
        link = {"depends_on": [{"equipment_id": "sw-1", "port": str(port)}]}
        bench.register.change(cam, link, bench.register.get(cam).revision, "ana")
    a = bench.offline("gate")
    bench.clock.now += 3 * S
    b = bench.offline("yard")
    bench.clock.now += 10 * S
    c = bench.offline("dock")  # not behind the switch
    tickets = bench.later(61)
    by_equipment = {t.equipment_id: t for t in tickets}
    assert set(by_equipment) == {"sw-1", "dock"}, [t.title for t in tickets]
    switch = by_equipment["sw-1"]
    assert switch.cameras == ("gate", "yard") and switch.title == "Lobby switch: 2 cameras offline"
    assert sorted(bench.store.event_ids(switch.id)) == sorted([a, b]) and bench.store.event_ids(
        by_equipment["dock"].id
    ) == [c]
    assert sw.kind.value == "switch"
    # the switch is fixed: both cameras back; verified once both have been healthy long enough
    bench.online(a)
    bench.later(1)
    assert bench.store.ticket(switch.id).fault_cleared_us is None, "one camera is still down"
    bench.online(b)
    [cleared] = [t for t in bench.later(1) if t.id == switch.id]
    assert cleared.state is TicketState.RESOLVED
    bench.later(301)
    assert bench.store.ticket(switch.id).state is TicketState.VERIFIED


def test_a_resolve_while_the_fault_is_still_there_is_not_verified_and_says_why(bench: Bench) -> None:
    bench.fault("dock", "covered")
    [t] = bench.later(11)
    assert t.kind.value == "covered" and t.priority == 1
    ack = bench.desk.acknowledge(t.id, "ana", t.revision)
    done = bench.desk.resolve(t.id, "ana", ack.revision, ["cleaned"], time_spent_min=10)
    assert done.state is TicketState.RESOLVED
    bench.later(60)
    assert bench.store.ticket(t.id).state is TicketState.RESOLVED  # within the grace time
    bench.later(61)
    back = bench.store.ticket(t.id)
    assert (
        back.state is TicketState.IN_PROGRESS and "not verified" in back.verify_note and "covered" in back.verify_note
    )
    assert any(n["change"] == "not_verified" for n in bench.notices() if n["kind"] == "ticket")


def test_a_restart_in_the_middle_of_a_verification_resumes_it(bench: Bench) -> None:
    down = bench.offline("gate")
    [t] = bench.later(61)
    bench.online(down)
    bench.later(1)
    bench.later(200)  # 200 of the 300 healthy seconds
    bench.catalog.close()
    bench.open()  # a new engine on the same catalog
    assert bench.later(50) == [] and bench.store.ticket(t.id).state is TicketState.RESOLVED
    [v] = bench.later(60)
    assert v.id == t.id and v.state is TicketState.VERIFIED


def test_missed_deadlines_raise_ticket_overdue_events_and_notifications(bench: Bench) -> None:
    bench.offline("gate")
    [t] = bench.later(61)
    assert t.respond_due_us == t.opened_us + 900 * S
    bench.later(900)
    events = bench.catalog.events(types=["ticket_overdue"])
    assert len(events) == 1 and events[0].data["deadlines"] == ["respond"] and events[0].camera_id == "gate"
    bench.later(60)
    assert len(bench.catalog.events(types=["ticket_overdue"])) == 1, "told once"
    bench.later(7200)
    assert [e.data["deadlines"] for e in bench.catalog.events(types=["ticket_overdue"])] == [["restore"], ["respond"]]
    assert [n["change"] for n in bench.notices() if n["kind"] == "ticket"] == ["opened", "overdue", "overdue"]


def test_two_people_changing_one_ticket_at_once_the_second_is_told_and_loses_nothing(bench: Bench) -> None:
    bench.offline("gate")
    [t] = bench.later(61)
    bench.desk.assign(t.id, "ana", t.revision, vendor="Acme Security")
    with pytest.raises(Conflict, match="changed meanwhile"):
        bench.desk.acknowledge(t.id, "bob", t.revision)  # bob saw the ticket before ana's change
    now = bench.store.ticket(t.id)
    assert now.vendor == "Acme Security" and now.acknowledged_by == "ana"
    edited = bench.desk.edit(t.id, "bob", now.revision, vendor_ref="ACME-4411", parts=["PoE injector"])
    assert (edited.vendor_ref, edited.parts) == ("ACME-4411", ("PoE injector",))
    acts = [e.detail["change"] for e in reversed(bench.audit.entries(action="ticket"))]
    assert acts == ["assigned", "edited"]
    with pytest.raises(InvalidRequest, match="equipment_id"):
        bench.desk.open("no-such-thing", "ana")


def test_a_frame_rate_well_below_the_cameras_own_normal_becomes_a_fault_and_a_ticket(bench: Bench) -> None:
    for k in range(12):  # a normal of 25 frames/s over two minutes of segments
        start = T0 - (12 - k) * 10 * S
        path = f"gate/main/{start}.mp4"
        bench.catalog.add_segment(
            SegmentInfo("gate", "main", path, start, start + 10 * S, 500_000, "0" * 64, "h264", 640, 360, 250)
        )
    row = HealthRow("gate", "main", True, T0, T0, T0, 4.0, 400.0, 2.0, 0, "")
    bench.catalog.upsert_health(row)
    bench.later(10)
    [fault] = bench.catalog.open_events(["stream_fault"])
    assert fault.data["fault"] == "low_fps" and fault.data["normal"] == pytest.approx(25.0)
    [t] = [x for x in bench.later(31) if x.kind.value == "low_fps"]
    assert t.equipment_id == "gate" and "4.0 frames/s" in t.detail
    bench.catalog.upsert_health(
        HealthRow("gate", "main", True, T0, bench.clock.now, bench.clock.now, 25.0, 400.0, 2.0, 0, "")
    )
    bench.later(10)
    assert not bench.catalog.open_events(["stream_fault"])


def test_a_process_restarting_in_a_loop_opens_a_ticket_on_the_node(bench: Bench) -> None:
    for _ in range(3):
        bench.engine.process_restarted("recorder-1", ["gate", "yard"], bench.clock.now)
        bench.clock.now += 20 * S
    [t] = bench.later(1)
    assert t.kind.value == "restart_loop" and t.equipment_id == "vigil" and t.cameras == ("gate", "yard")
    bench.later(601)  # no restart for the window: the loop ended, the ticket resolves itself
    assert bench.store.ticket(t.id).state is TicketState.RESOLVED


def test_a_camera_removed_from_the_configuration_keeps_its_record_and_tickets(bench: Bench, tmp_path) -> None:
    bench.offline("dock")
    [t] = bench.later(61)
    fewer = parse_config({**bench.config.model_dump(mode="json", exclude_none=True), "cameras": [
        c.model_dump(mode="json", exclude_none=True) for c in bench.config.cameras if c.id != "dock"]})  # fmt: skip
    bench.register.sync(fewer)
    gone = bench.register.store.get("dock")
    assert gone is not None and gone.removed_us is not None
    assert bench.store.ticket(t.id).equipment_id == "dock"
    assert [h.change for h in bench.register.history("dock")][:1] == ["removed"]


def test_damaged_stored_footage_opens_one_ticket_per_tier_that_clears_when_healed(bench: Bench) -> None:
    doc = bench.config.model_dump(mode="json", exclude_none=True)
    doc["storage"]["tiers"] = [{"name": "nas", "kind": "local", "path": str(bench.tmp_path)}]
    bench.register.sync(parse_config(doc))
    assert bench.register.get("vigil:tier:nas").name == "Storage tier nas"

    def damaged(tier: str, segment_id: int) -> int:
        data = {"fault": "storage", "key": f"storage:{tier}:{segment_id}", "tier": tier, "segment_id": segment_id}
        return bench.catalog.add_event("fault", bench.clock.now, f"{tier}: segment {segment_id} damaged", data=data)

    events = [damaged("nas", 1), damaged("nas", 2), damaged("hot", 3)]
    made = bench.later(1)
    by_equipment = {t.equipment_id: t for t in made}
    assert sorted(by_equipment) == ["vigil:disk", "vigil:tier:nas"] and {t.kind.value for t in made} == {"storage"}
    nas = by_equipment["vigil:tier:nas"]
    assert nas.title == "Storage tier nas: stored footage damaged"
    assert sorted(bench.store.linked_events(events)) == sorted(events)
    bench.catalog.end_event(events[0], bench.clock.now + S, "healed")
    bench.later(2)
    assert bench.store.ticket(nas.id).fault_cleared_us is None, "one object on the tier is still damaged"
    bench.catalog.end_event(events[1], bench.clock.now + S, "healed")
    bench.later(2)
    assert bench.store.ticket(nas.id).fault_cleared_us is not None
    assert bench.store.ticket(by_equipment["vigil:disk"].id).fault_cleared_us is None, "the hot disk's is apart"
