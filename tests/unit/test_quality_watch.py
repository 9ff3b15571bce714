"""The daily picture check on a real SQLite catalog with a fake clock and pictures whose measures follow a script:
samples are taken once per camera, local day and period, after the site's hour is over (Asia/Shanghai here), also
after a restart and for yesterday when missed; an hour with nothing recorded gives none; a slow loss of sharpness
opens one low-priority degradation ticket on the day the trend crosses (never on a scene that only varies); a
resolve is verified only by the daily checks after it (a cleaning that did not help goes back to work with the
reason); a reconfigured view restarts the baseline; a replaced camera starts a new one; the findings are explained;
bad settings are refused with their path."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from test_ticket_engine import MAINTENANCE, Bench

from vigil.config.loader import parse_config
from vigil.config.models import SiteConfig
from vigil.domain.degradation import DegradationSettings, QualityMeasures, QualitySample, baselines, findings
from vigil.domain.errors import ConfigError
from vigil.domain.tickets import TicketKind, TicketState
from vigil.domain.timeutil import us_from_datetime
from vigil.storage.equipment import SqlEquipment
from vigil.storage.quality import SqlQualitySamples
from vigil.usecases.quality_watch import QualityWatch

TZ = ZoneInfo("Asia/Shanghai")
S = 1_000_000
DAY_US = 86_400 * S
START = datetime(2026, 3, 1, 0, 30, tzinfo=TZ)  # half past midnight, site time


class ScriptedPictures:
    """What the recorder kept: per camera a function of the day number (from START) and period; None: not recorded."""

    def __init__(self) -> None:
        self.sharp: dict[str, float] = {}
        self.missing: set[tuple[str, int, str]] = set()
        self.asked: list[tuple[str, int, int]] = []
        self.origin = us_from_datetime(START.replace(hour=0, minute=0))

    def measure(self, camera_id: str, start_us: int, end_us: int, frames: int) -> tuple[QualityMeasures, int] | None:
        self.asked.append((camera_id, start_us, end_us))
        day = (start_us - self.origin) // DAY_US
        period = "day" if datetime.fromtimestamp(start_us / S, TZ).hour == 12 else "night"
        if day < 0 or (camera_id, day, period) in self.missing:
            return None
        wobble = 0.01 * ((day * 7) % 5 - 2)  # a scene that varies a little from day to day
        sharp = self.sharp.get(camera_id, 1.0) + wobble
        return QualityMeasures(sharp, 150 + 3 * wobble, 110.0, 2.0, 3.0), frames


@pytest.fixture
def bench(tmp_path):
    b = Bench(tmp_path, maintenance={**MAINTENANCE, "thresholds_s": {}})
    b.config = b.config.model_copy(update={"site": SiteConfig(timezone="Asia/Shanghai")})
    b.clock.now = us_from_datetime(START)
    b.pictures = ScriptedPictures()
    b.samples = SqlQualitySamples(b.catalog)
    b.watch = QualityWatch(b.samples, b.pictures, b.store, SqlEquipment(b.catalog), b.desk, b.clock, lambda: b.config)
    b.engine.repair_checks[TicketKind.DEGRADATION] = b.watch.verdict
    yield b
    b.catalog.close()


def at(day: int, hour: int, minute: int = 0) -> int:
    return us_from_datetime(START.replace(hour=hour, minute=minute) + timedelta(days=day))


def test_samples_are_taken_once_after_the_local_hour_and_caught_up_after_a_restart(bench: Bench) -> None:
    assert bench.watch.tick() == [], "00:30: yesterday's hours were not recorded (nothing yet), tonight's 02:00 to come"
    bench.clock.now = at(0, 2, 59)
    assert bench.watch.tick() == [], "the night hour is not over"
    bench.clock.now = at(0, 3, 1)
    [night] = [s for s in bench.watch.tick() if s.camera_id == "gate"]
    assert (night.period, night.day, night.at_us, night.frames) == ("night", "2026-03-01", at(0, 2), 5)
    assert bench.watch.tick() == [], "one per day and period"
    assert bench.samples.samples("gate") == [night]
    bench.clock.now = at(1, 14)  # the node was down from 03:01 to the next afternoon
    again = QualityWatch(
        bench.samples, bench.pictures, bench.store, SqlEquipment(bench.catalog), bench.desk, bench.clock,
        lambda: bench.config,
    )  # fmt: skip
    taken = again.tick()
    assert sorted((s.day, s.period) for s in taken if s.camera_id == "gate") == [
        ("2026-03-01", "day"),
        ("2026-03-02", "day"),
        ("2026-03-02", "night"),
    ]
    asked = [a for a in bench.pictures.asked if a[0] == "gate"]
    assert all(end - start == 3600 * S for _, start, end in asked)
    assert {datetime.fromtimestamp(start / S, TZ).hour for _, start, _ in asked} == {2, 12}


def test_an_hour_with_nothing_recorded_gives_no_sample(bench: Bench) -> None:
    bench.pictures.missing.add(("gate", 0, "night"))
    bench.clock.now = at(0, 3, 1)
    assert [s.camera_id for s in bench.watch.tick()] == ["yard", "dock"]
    assert not bench.samples.has("gate", "2026-03-01", "night")


def run_days(bench: Bench, days: int, sharp=None, first: int = 0) -> None:
    for day in range(first, first + days):
        if sharp is not None:
            bench.pictures.sharp["gate"] = sharp(day)
        bench.clock.now = at(day, 13, 5)
        bench.watch.tick()
        bench.clock.now = at(day + 1, 3, 5)
        bench.watch.tick()
        bench.engine.tick()


def degradation_tickets(bench: Bench) -> list:
    return bench.store.tickets(kinds=["degradation"])


def dirt(onset: int):
    return lambda day: 1.0 if day < onset else max(0.5, 1.0 - 0.02 * (day - onset))


def test_a_slow_loss_of_sharpness_opens_one_low_priority_ticket(bench: Bench) -> None:
    run_days(bench, 20, dirt(12))
    assert degradation_tickets(bench) == [], "a 0.02 a day loss needs a week to cross 85%"
    run_days(bench, 10, dirt(12), first=20)
    [ticket] = degradation_tickets(bench)
    assert (ticket.equipment_id, ticket.cameras, ticket.priority, ticket.source) == (
        "gate",
        ("gate",),
        4,
        "degradation",
    )
    assert "sharpness" in ticket.title and "% of its usual" in ticket.detail
    opened_day = (ticket.opened_us - at(0, 0)) // DAY_US
    assert 19 <= opened_day <= 24, opened_day
    samples, found = bench.watch.findings("gate")
    assert {f.metric for f in found} == {"sharpness"} and {f.period for f in found} == {"day", "night"}
    assert len(samples) == 30 + 31, "30 days, 31 nights (the last run ends the next morning)"
    run_days(bench, 5, dirt(12), first=30)
    assert len(degradation_tickets(bench)) == 1, "one ticket while it is being worked"
    assert bench.store.tickets(kinds=["degradation"], camera_id="yard") == [], "the other cameras are fine"


def test_a_scene_that_only_varies_opens_nothing(bench: Bench) -> None:
    run_days(bench, 60)
    assert degradation_tickets(bench) == []


def test_a_repair_is_verified_by_the_checks_after_it(bench: Bench) -> None:
    run_days(bench, 30, dirt(10))
    [ticket] = degradation_tickets(bench)
    bench.desk.resolve(ticket.id, "tom", ticket.revision, work_done=["cleaned"])
    run_days(bench, 1, lambda day: 0.6, first=30)
    waiting = bench.store.ticket(ticket.id)
    assert waiting.state is TicketState.RESOLVED and "daily picture checks" in waiting.verify_note
    run_days(bench, 3, lambda day: 0.6, first=31)
    failed = bench.store.ticket(ticket.id)
    assert failed.state is TicketState.IN_PROGRESS and "not verified" in failed.verify_note
    assert "sharpness" in failed.verify_note
    bench.desk.resolve(ticket.id, "tom", failed.revision, work_done=["cleaned"], note="cleaned the dome too")
    run_days(bench, 4, lambda day: 1.0, first=34)
    done = bench.store.ticket(ticket.id)
    assert done.verified_us is not None and done.state in (TicketState.VERIFIED, TicketState.CLOSED)
    assert len(degradation_tickets(bench)) == 1


def test_a_reconfigured_view_and_a_replacement_start_a_new_baseline(bench: Bench) -> None:
    run_days(bench, 30, dirt(10))
    [ticket] = degradation_tickets(bench)
    bench.clock.now += S
    bench.desk.resolve(ticket.id, "tom", ticket.revision, work_done=["reconfigured"], note="now looks at the lawn")
    bench.engine.tick()
    assert bench.store.ticket(ticket.id).state is TicketState.VERIFIED
    assert bench.watch.since_us("gate") == bench.store.ticket(ticket.id).resolved_us
    run_days(bench, 20, lambda day: 0.6, first=31)
    assert len(degradation_tickets(bench)) == 1, "the new view is the new normal"
    bench.clock.now += S
    bench.register.replace_device("gate", {"model": "X2", "serial": "B-2"}, "broken", "tom")
    assert bench.watch.since_us("gate") > bench.store.ticket(ticket.id).resolved_us


def test_findings_say_what_and_how_much() -> None:
    def sample(day: int, sharp: float, bright: float, noise: float, cast: float) -> QualitySample:
        return QualitySample("c", day * DAY_US, "night", QualityMeasures(sharp, 100, bright, noise, cast))

    rows = [sample(d, 1.0, 80, 2, 3) for d in range(7)] + [sample(d, 0.99, 40, 6, 15) for d in range(7, 10)]
    found = {f.metric: f for f in findings(rows, DegradationSettings())}
    assert set(found) == {"brightness", "noise", "cast"}
    assert found["brightness"].describe() == "night: brightness at 50% of its usual (40 against 80)"
    assert found["cast"].describe() == "night: colour cast moved from 3.0 to 15.0"
    assert findings(rows[:9], DegradationSettings()) == [], "not enough samples after the baseline"
    assert baselines(rows, DegradationSettings()) == {
        "night": {"sharpness": 1.0, "contrast": 100, "brightness": 80, "noise": 2, "cast": 3}
    }
    assert baselines(rows[:6], DegradationSettings()) == {}, "a baseline needs its seven samples"


@pytest.mark.parametrize(
    ("quality", "path"),
    [
        ({"day_hour": 25}, "maintenance.quality.day_hour"),
        ({"day_hour": 3, "night_hour": 3}, "maintenance.quality"),
        ({"sharp_ratio": "blurry"}, "maintenance.quality.sharp_ratio"),
        ({"frames": 0}, "maintenance.quality.frames"),
        ({"window_days": 3}, "maintenance.quality.window_days"),
    ],
)
def test_bad_quality_settings_name_their_path(quality: dict, path: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"maintenance": {"quality": quality}}, "vigil.yaml")
    assert path in str(err.value)
