"""Tickets and the equipment register as pure data: the life cycle and its refusals, service-level deadlines, fault
episodes (attach, reopen within the window, new after it), outages put down to shared equipment, verification,
dependency cycles, and documents checked by their bytes rather than their names."""

from dataclasses import replace

import pytest

from vigil.domain.equipment import (
    Dependency,
    Equipment,
    EquipmentKind,
    check_equipment,
    dependency_cycle,
    document_type,
    downstream,
    upstream,
)
from vigil.domain.errors import Conflict, InvalidRequest
from vigil.domain.tickets import (
    FaultState,
    Outage,
    ServiceLevel,
    Ticket,
    TicketKind,
    TicketState,
    acknowledge,
    assign,
    check_revision,
    close,
    deadlines,
    edit,
    episode_ticket,
    fault_cleared,
    order_queue,
    overdue_now,
    reopen_by_hand,
    resolve,
    shared_causes,
    start,
    verification,
    verified,
    wait,
)

S = 1_000_000
T0 = 1_764_000_000_000_000
LEVELS = {1: ServiceLevel(60, 600), 2: ServiceLevel(300, 3600), 3: ServiceLevel(3600, 86400), 4: ServiceLevel(1, 2)}


def ticket(**values) -> Ticket:
    base = Ticket(
        id=7,
        equipment_id="gate",
        kind=TicketKind.OFFLINE,
        title="Gate: offline",
        priority=2,
        state=TicketState.OPEN,
        source="fault",
        opened_us=T0,
        opened_by="system",
        updated_us=T0,
        cameras=("gate",),
        respond_due_us=T0 + 300 * S,
        restore_due_us=T0 + 3600 * S,
    )
    return replace(base, **values)


def test_the_life_cycle_from_open_to_closed_and_what_it_refuses() -> None:
    t = ticket()
    a = acknowledge(t, "ana", T0 + S)
    assert a.state is TicketState.ACKNOWLEDGED and a.responded_us == T0 + S and a.revision == t.revision + 1
    with pytest.raises(Conflict):
        acknowledge(a, "bob", T0 + 2 * S)
    g = assign(a, "bob", "Acme Security", "ana", T0 + 2 * S)
    assert (g.assignee, g.vendor, g.state) == ("bob", "Acme Security", TicketState.ACKNOWLEDGED)
    w = wait(start(g, "bob", T0 + 3 * S), "bob", T0 + 4 * S)
    assert w.state is TicketState.WAITING
    with pytest.raises(InvalidRequest, match="work_done"):
        resolve(w, "bob", T0 + 5 * S)  # nothing said of what was done
    with pytest.raises(InvalidRequest, match="not one of"):
        resolve(w, "bob", T0 + 5 * S, ["prayed"])
    r = resolve(w, "bob", T0 + 5 * S, ["cabling", "cabling"], ["RJ45 plug"], 45)
    assert r.state is TicketState.RESOLVED and r.work_done == ("cabling",) and r.time_spent_min == 45
    with pytest.raises(Conflict, match="only a verified ticket"):
        close(r, "ana", T0 + 6 * S)  # a person's word alone never closes it
    v = verified(r, T0 + 400 * S)
    c = close(v, "ana", T0 + 401 * S)
    assert c.state is TicketState.CLOSED and c.closed_by == "ana"
    again = reopen_by_hand(c, "ana", T0 + 500 * S)
    assert again.state is TicketState.IN_PROGRESS and again.reopened == 1 and again.closed_us is None
    with pytest.raises(Conflict):
        start(again, "ana", T0 + 501 * S)  # in progress already


def test_a_stale_revision_is_refused_and_edits_move_the_deadlines() -> None:
    t = ticket(revision=3)
    check_revision(t, 3)
    with pytest.raises(Conflict, match="revision 3, you saw 2"):
        check_revision(t, 2)
    e = edit(t, "ana", T0 + S, priority=1, levels=LEVELS, vendor_ref="ACME-991")
    assert (e.respond_due_us, e.restore_due_us) == (T0 + 60 * S, T0 + 600 * S) and e.vendor_ref == "ACME-991"
    with pytest.raises(InvalidRequest, match="priority"):
        edit(t, "ana", T0, priority=9, levels=LEVELS)
    with pytest.raises(InvalidRequest, match="nothing"):
        edit(t, "ana", T0)


def test_deadlines_are_reported_missed_once_and_not_after_the_response() -> None:
    respond, restore = deadlines(T0, 2, LEVELS)
    t = ticket(respond_due_us=respond, restore_due_us=restore)
    assert overdue_now(t, T0 + 299 * S) == []
    assert overdue_now(t, T0 + 300 * S) == ["respond"]
    assert overdue_now(replace(t, overdue=("respond",)), T0 + 3600 * S) == ["restore"]
    answered = acknowledge(t, "ana", T0 + 10 * S)
    assert overdue_now(answered, T0 + 400 * S) == []
    assert overdue_now(resolve(start(answered, "ana", T0), "ana", T0 + 20 * S, ["power"]), T0 + 7200 * S) == []


def test_a_fault_episode_attaches_reopens_within_the_window_or_opens_anew() -> None:
    working = ticket(id=3)
    assert episode_ticket([working], "gate", TicketKind.OFFLINE, T0, 86400 * S) == ("attach", working)
    done = ticket(id=4, state=TicketState.CLOSED, verified_us=T0, closed_us=T0 + S)
    assert episode_ticket([working, done], "gate", TicketKind.OFFLINE, T0 + 3600 * S, 86400 * S) == ("reopen", done)
    assert episode_ticket([done], "gate", TicketKind.OFFLINE, T0 + 2 * 86400 * S, 86400 * S) == ("new", None)
    assert episode_ticket([done], "gate", TicketKind.COVERED, T0, 86400 * S) == ("new", None)
    assert episode_ticket([done], "yard", TicketKind.OFFLINE, T0, 86400 * S) == ("new", None)


GRAPH = {
    "cam1": ("pg-a",),
    "cam2": ("pg-a",),
    "cam3": ("pg-b",),
    "cam4": ("pg-b",),
    "cam5": ("sw-1",),
    "pg-a": ("sw-1",),
    "pg-b": ("sw-1",),
    "sw-1": ("ups",),
    "cam9": ("ups",),
    "ups": (),
}
MONITORED = ["cam1", "cam2", "cam3", "cam4", "cam5", "cam9"]


def test_outages_that_begin_together_are_put_down_to_the_most_specific_shared_equipment() -> None:
    both = [Outage("cam1", T0), Outage("cam2", T0 + 2 * S)]
    [cause] = shared_causes(both, GRAPH, MONITORED, 15 * S)
    assert cause.equipment_id == "pg-a" and cause.cameras == ("cam1", "cam2") and cause.since_us == T0
    switch = [Outage(c, T0 + k * S) for k, c in enumerate(["cam1", "cam2", "cam3", "cam4", "cam5"])]
    [cause] = shared_causes(switch, GRAPH, MONITORED, 15 * S)
    assert cause.equipment_id == "sw-1" and len(cause.cameras) == 5
    # too far apart: two separate failures, nothing shared
    assert shared_causes([Outage("cam1", T0), Outage("cam2", T0 + 60 * S)], GRAPH, MONITORED, 15 * S) == []
    # one camera behind the switch and the one on the UPS alone: 2 of the UPS's 6 cameras, no shared cause
    assert shared_causes([Outage("cam1", T0), Outage("cam9", T0)], GRAPH, MONITORED, 15 * S) == []
    every = [Outage(c, T0) for c in MONITORED]
    assert [c.equipment_id for c in shared_causes(every, GRAPH, MONITORED, 15 * S)] == ["ups"]
    assert shared_causes([Outage("cam1", T0), Outage("cam3", T0)], GRAPH, MONITORED, 15 * S) == []  # 2 of 5: under half
    assert shared_causes([Outage("cam1", T0)], GRAPH, MONITORED, 15 * S) == []


def test_verification_needs_the_fault_gone_and_a_healthy_picture_for_long_enough() -> None:
    r = ticket(state=TicketState.RESOLVED, resolved_us=T0)
    present = FaultState(True, None, "offline since 10:00")
    assert verification(r, present, T0 + 10 * S, 300 * S, 120 * S).outcome == "waiting"
    failed = verification(r, present, T0 + 120 * S, 300 * S, 120 * S)
    assert failed.outcome == "failed" and "offline since 10:00" in failed.reason
    gone = FaultState(False, T0 + 50 * S)  # back 50 s after the resolve
    w = verification(r, gone, T0 + 300 * S, 300 * S, 120 * S)
    assert w.outcome == "waiting" and w.until_us == T0 + 350 * S
    assert verification(r, gone, T0 + 350 * S, 300 * S, 120 * S).outcome == "verified"


def test_a_fault_that_clears_by_itself_resolves_its_ticket_on_vigils_behalf() -> None:
    cleared = fault_cleared(ticket(), T0 + 90 * S, T0 + 91 * S, auto_resolve=True)
    assert cleared.state is TicketState.RESOLVED and cleared.resolved_by == "system"
    assert cleared.resolved_us == T0 + 90 * S and cleared.work_done == ("none_needed",)
    worked = fault_cleared(ticket(state=TicketState.IN_PROGRESS), T0, T0, auto_resolve=False)
    assert worked.state is TicketState.IN_PROGRESS and worked.fault_cleared_us == T0


def test_the_queue_puts_the_nearest_deadline_first() -> None:
    a = ticket(id=1, respond_due_us=T0 + 900 * S, restore_due_us=T0 + 9000 * S)
    b = ticket(id=2, respond_due_us=T0 + 60 * S, restore_due_us=T0 + 600 * S)
    c = ticket(id=3, respond_due_us=None, restore_due_us=None)
    assert [t.id for t in order_queue([c, a, b])] == [2, 1, 3]


def test_dependency_links_must_not_form_a_cycle() -> None:
    graph = {"cam1": ("sw-1",), "sw-1": ("ups",), "ups": ()}
    assert dependency_cycle(graph, "ups", ["cam1"]) == ["ups", "cam1", "sw-1", "ups"]
    assert dependency_cycle(graph, "ups", ["mains"]) is None
    assert upstream(graph, "cam1") == ["sw-1", "ups"]
    assert downstream(graph, "ups") == {"cam1", "sw-1"}


def test_a_record_with_bad_fields_is_refused_with_the_field_named() -> None:
    good = Equipment("sw-1", EquipmentKind.SWITCH, " Lobby switch ", ip="10.0.0.2", mac="00:1A:2B:3C:4D:5E")
    clean = check_equipment(good)
    assert clean.name == "Lobby switch" and clean.mac == "00:1a:2b:3c:4d:5e"
    for bad, field in (
        (replace(good, id="Bad Id"), "id"),
        (replace(good, name=" "), "name"),
        (replace(good, ip="10.0.0.300"), "ip"),
        (replace(good, mac="00:1a"), "mac"),
        (replace(good, warranty_end="2026-13-01"), "warranty_end"),
        (replace(good, fov_deg=0.0), "fov_deg"),
        (replace(good, depends_on=(Dependency("sw-1"),)), "depends_on"),
        (replace(good, depends_on=(Dependency("ups"), Dependency("ups"))), "depends_on"),
    ):
        with pytest.raises(InvalidRequest, match=field):
            check_equipment(bad)


def test_documents_are_what_their_bytes_say_not_what_their_name_says() -> None:
    assert document_type("datasheet.pdf", b"%PDF-1.7\n...") == "application/pdf"
    assert document_type("C:\\photos\\mount.JPG", b"\xff\xd8\xff\xe0....JFIF") == "image/jpeg"
    assert document_type("notes.txt", "温度 ok".encode()) == "text/plain"
    with pytest.raises(InvalidRequest, match="not a PDF"):
        document_type("datasheet.pdf", b"MZ\x90\x00 an executable")
    with pytest.raises(InvalidRequest, match="not a PNG"):
        document_type("photo.png", b"\xff\xd8\xff a jpeg in disguise")
    with pytest.raises(InvalidRequest, match="not text"):
        document_type("readme.txt", b"abc\x00\x01\x02")
    with pytest.raises(InvalidRequest, match="documents are"):
        document_type("tool.exe", b"MZ")
    with pytest.raises(InvalidRequest, match="empty"):
        document_type("empty.pdf", b"")
