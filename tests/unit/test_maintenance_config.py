"""``maintenance`` in vigil.yaml: an unknown fault kind, a threshold of the wrong type, a bad priority or service
level, or a channel that does not exist is refused with the key's path; the defaults make sense."""

import pytest

from vigil.config.loader import parse_config
from vigil.domain.errors import ConfigError
from vigil.domain.tickets import TicketKind
from vigil.usecases.ticket_engine import TicketSettings


@pytest.mark.parametrize(
    ("maintenance", "where", "says"),
    [
        ({"thresholds_s": {"coverd": 10}}, "maintenance.thresholds_s.coverd", "unknown key"),
        ({"thresholds_s": {"offline": "a minute"}}, "maintenance.thresholds_s.offline", "valid number"),
        ({"thresholds_s": {"offline": -5}}, "maintenance.thresholds_s.offline", "greater than or equal to 0"),
        ({"priorities": {"covered": 0}}, "maintenance.priorities.covered", "greater than or equal to 1"),
        ({"service_levels": {7: {"respond_s": 1, "restore_s": 2}}}, "maintenance.service_levels", "priority 7"),
        ({"service_levels": {1: {"respond_s": 600, "restore_s": 60}}}, "maintenance.service_levels", "shorter"),
        ({"notify": {"channels": ["nowhere"]}}, "maintenance.notify.channels", "no notification channel"),
        ({"notify": {"changes": ["exploded"]}}, "maintenance.notify.changes[0]", "Input should be"),
        ({"node_id": "My Node"}, "maintenance.node_id", "pattern"),
        ({"verify_after": 5}, "maintenance.verify_after", "unknown key"),
    ],
)
def test_a_bad_maintenance_setting_is_refused_with_its_path(maintenance, where, says):
    with pytest.raises(ConfigError) as caught:
        parse_config({"maintenance": maintenance}, "vigil.yaml")
    text = caught.value.message
    assert where in text and says in text, text


def test_the_defaults_open_tickets_for_every_fault_with_deadlines_per_priority():
    s = TicketSettings.of(parse_config({}))
    assert s.enabled and s.thresholds_us[TicketKind.OFFLINE] == 60_000_000
    assert s.priorities[TicketKind.COVERED] == 1 and s.priorities[TicketKind.DEGRADATION] == 4
    assert s.levels[1].respond_s < s.levels[4].respond_s and s.verify_us == 300_000_000
