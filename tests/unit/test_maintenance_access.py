"""Who sees which equipment and tickets, and what a technician may do with cameras: health everywhere (a vendor's
account: its vendor's cameras), live only of the cameras of their open tickets, never playback or export (not even
by a grant), never unmasked."""

from vigil.domain.access import Action, Grant, Principal, Role
from vigil.domain.equipment import Equipment, EquipmentKind
from vigil.domain.tickets import Ticket, TicketKind, TicketState
from vigil.usecases.maintenance_access import sees_equipment, sees_ticket, technician_grants


def ticket(**values) -> Ticket:
    base = dict(id=1, equipment_id="gate", kind=TicketKind.OFFLINE, title="t", priority=2, state=TicketState.OPEN,
                source="fault", opened_us=0, opened_by="system", updated_us=0, cameras=("gate",))  # fmt: skip
    return Ticket(**{**base, **values})  # type: ignore[arg-type]


def test_a_technician_sees_health_everywhere_and_live_only_where_their_open_work_is() -> None:
    grants = technician_grants("tom", None, {"gate"}, set())
    tom = Principal("tom", Role.TECHNICIAN, grants)
    assert tom.may_on(Action.HEALTH, "yard", "default") and tom.may_on(Action.LIVE, "gate", "default")
    assert not tom.may_on(Action.LIVE, "yard", "default")
    generous = Principal("tom", Role.TECHNICIAN, (*grants, Grant(actions=frozenset({Action.EXPORT, Action.PLAYBACK}))))
    assert not generous.may_on(Action.EXPORT, "gate", "default"), "never an export, whatever a grant says"
    assert not generous.may_on(Action.PLAYBACK, "gate", "default") and not generous.may(Action.EXPORT)
    assert not tom.may_on(Action.VIEW_UNMASKED, "gate", "default") and tom.may(Action.MAINTENANCE)


def test_a_vendors_account_sees_its_own_equipment_tickets_and_cameras_only() -> None:
    grants = technician_grants("vic", "Acme", set(), {"gate"})
    vic = Principal("vic", Role.TECHNICIAN, grants, vendor="Acme")
    assert vic.may_on(Action.HEALTH, "gate", "default") and not vic.may_on(Action.HEALTH, "yard", "default")
    assert not vic.may_on(Action.LIVE, "gate", "default"), "no open ticket of theirs on it"
    assert sees_equipment(vic, Equipment("sw-1", EquipmentKind.SWITCH, "S", vendor="Acme"))
    assert not sees_equipment(vic, Equipment("sw-2", EquipmentKind.SWITCH, "S", vendor="Other"))
    assert sees_ticket(vic, ticket(vendor="Acme"), {}) and sees_ticket(vic, ticket(assignee="vic"), {})
    assert not sees_ticket(vic, ticket(vendor="Other"), {})


def test_an_operator_sees_tickets_of_the_cameras_whose_health_they_see() -> None:
    op = Principal("olga", Role.OPERATOR, (Grant(camera_id="gate"),))
    assert sees_ticket(op, ticket(), {}) and not sees_ticket(op, ticket(cameras=("yard",)), {})
    viewer = Principal("vera", Role.VIEWER, (Grant(),))
    assert not sees_ticket(viewer, ticket(), {}), "viewers do not work maintenance"
    auditor = Principal("aud", Role.AUDITOR)
    assert sees_ticket(auditor, ticket(cameras=("yard",)), {})
