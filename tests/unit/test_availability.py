"""Availability, exactly: the interval arithmetic against a second-by-second count on random histories; known
downtime written into a real SQLite catalog (gaps, picture faults, a maintenance window placed at run time, a recurring
one, a restart for a settings change) gives figures that match to the second, per day in the site's time zone, for a
camera, a site and the cameras behind a switch."""

import random
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from support.node import node_config
from vigil.config.loader import parse_config
from vigil.domain.alarms import Suppression
from vigil.domain.availability import (
    CameraHistory,
    GapSpan,
    availability,
    buckets,
    difference,
    intersection,
    merged,
)
from vigil.domain.errors import InvalidRequest
from vigil.domain.segment import GapCause, SegmentInfo
from vigil.domain.timeutil import us_from_datetime
from vigil.storage.alarms import SqlAlarms
from vigil.storage.catalog import SqlCatalog, sqlite_url
from vigil.storage.history import SqlHistory
from vigil.usecases.availability import AvailabilityDesk, figures_csv

S = 1_000_000


def brute(h: CameraHistory, start: int, end: int) -> tuple[int, int, int, int, int]:
    """Second by second (all times whole seconds): observed, down, planned, faulty, outages."""
    begin = max(start, end if h.first_recorded_us is None else h.first_recorded_us)
    down = planned = faulty = observed = 0
    outages, in_outage, outage_unplanned = 0, False, False
    for t in range(begin, end, S):
        observed += S
        gap = next((g for g in h.gaps if g.start_us <= t < (g.end_us or end)), None)
        if gap is not None:
            down += S
            window = any(a <= t < b for a, b in h.windows) or gap.cause in ("reconfigured", "disabled")
            planned += S if window else 0
            if not in_outage:
                in_outage, outage_unplanned = True, False
            outage_unplanned = outage_unplanned or not window
        else:
            if in_outage and outage_unplanned:
                outages += 1
            in_outage = False
            if any(a <= t < (b or end) for a, b in h.faults):
                faulty += S
    if in_outage and outage_unplanned:
        outages += 1
    return observed, down, planned, faulty, outages


def random_history(rng: random.Random, span: int) -> CameraHistory:
    t, gaps = rng.randrange(0, 50) * S, []
    while t < span:
        t += rng.randrange(1, 80) * S
        length = rng.randrange(1, 40) * S
        cause = rng.choice(["timeout", "unreachable", "reconfigured", "process_down"])
        gaps.append(GapSpan(t, None if t + length > span and rng.random() < 0.5 else t + length, cause))
        t += length
    faults = []
    for _ in range(rng.randrange(0, 12)):
        a = rng.randrange(0, span // S) * S
        faults.append((a, a + rng.randrange(1, 60) * S if rng.random() < 0.9 else None))
    windows = []
    for _ in range(rng.randrange(0, 4)):
        a = rng.randrange(0, span // S) * S
        windows.append((a, a + rng.randrange(5, 120) * S))
    return CameraHistory("cam", rng.randrange(0, 30) * S, gaps, faults, merged(windows))


def test_the_arithmetic_matches_a_second_by_second_count_on_random_histories() -> None:
    rng = random.Random(13)
    for _ in range(150):
        span = rng.randrange(200, 900) * S
        h = random_history(rng, span)
        start, end = rng.randrange(0, 100) * S, span - rng.randrange(0, 100) * S
        a = availability(h, start, end)
        assert (a.observed_us, a.down_us, a.planned_us, a.faulty_us, a.outages) == brute(h, start, end)


def test_interval_helpers() -> None:
    assert merged([(5, 7), (1, 3), (3, 4), (6, 9)]) == [(1, 4), (5, 9)]
    assert intersection([(0, 10), (20, 30)], [(5, 25)]) == [(5, 10), (20, 25)]
    assert difference([(0, 10), (20, 30)], [(2, 3), (8, 22)]) == [(0, 2), (3, 8), (22, 30)]


def test_buckets_follow_the_sites_days_weeks_and_months() -> None:
    tz = "Asia/Shanghai"
    start = us_from_datetime(datetime(2026, 11, 30, 12, tzinfo=ZoneInfo(tz)))
    end = us_from_datetime(datetime(2026, 12, 3, 6, tzinfo=ZoneInfo(tz)))
    days = buckets(start, end, "day", tz)
    assert [b.label for b in days] == ["2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"]
    assert days[0].start_us == start and days[-1].end_us == end
    assert days[1].end_us - days[1].start_us == 86400 * S
    assert [b.label for b in buckets(start, end, "month", tz)] == ["2026-11", "2026-12"]
    assert [b.label for b in buckets(start, end, "week", tz)] == ["2026-W49"]
    london = "Europe/London"  # the day the clocks go back has 25 hours
    a = us_from_datetime(datetime(2026, 10, 25, tzinfo=ZoneInfo(london)))
    [day] = buckets(a, a + 25 * 3600 * S, "day", london)
    assert day.end_us - day.start_us == 25 * 3600 * S


T0 = us_from_datetime(datetime(2026, 12, 1, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai")))  # local midnight
HOUR = 3600 * S


@pytest.fixture
def site(tmp_path: Path):
    cameras = {c: f"rtsp://10.0.0.{k}/1" for k, c in enumerate(["gate", "yard", "dock"], start=5)}
    config, _ = node_config(
        tmp_path,
        cameras,
        site={"timezone": "Asia/Shanghai"},
        alarms={"maintenance": [{"name": "Tuesday cleaning", "cameras": ["yard"],
                                 "schedule": [{"days": ["tue"], "start": "02:00", "end": "03:00"}]}]},
    )  # fmt: skip
    doc = config.model_dump(mode="json", exclude_none=True)
    doc["cameras"][1]["site"] = doc["cameras"][2]["site"] = "harbour"
    config = parse_config(doc)
    catalog = SqlCatalog(sqlite_url(tmp_path / "vigil.db"))
    for cam in cameras:
        path = f"{cam}/main/first.mp4"
        catalog.add_segment(SegmentInfo(cam, "main", path, T0, T0 + 60 * S, 1000, "0" * 64, "h264", 640, 360, 1500))
    # gate: down 10:00:00-10:20:00 (timeout) and 23:50 on day 1 - 00:10 on day 2 (unreachable): 40 min, 2 outages
    for a, b, cause in (
        (10 * HOUR, 10 * HOUR + 1200 * S, "timeout"),
        (24 * HOUR - 600 * S, 24 * HOUR + 600 * S, "unreachable"),
    ):
        catalog.open_gap("gate", "main", T0 + a, GapCause(cause))
        catalog.close_gap("gate", "main", T0 + b)
    # gate: a covered lens 12:00-12:05 and a blur 12:03-12:10 (overlapping: 10 min of bad picture)
    for a, b, kind in (
        (12 * HOUR, 12 * HOUR + 300 * S, "covered"),
        (12 * HOUR + 180 * S, 12 * HOUR + 600 * S, "blurred"),
    ):
        catalog.add_event("fault", T0 + a, kind, camera_id="gate", end_us=T0 + b, data={"fault": kind})
    catalog.add_event(
        "stream_fault", T0 + 13 * HOUR, "low", camera_id="gate", end_us=T0 + 14 * HOUR, data={"fault": "low_fps"}
    )
    # yard: down 01:30-02:30 on Tuesday 1 December (half in the recurring window) and a settings restart of 30 s
    catalog.open_gap("yard", "main", T0 + 90 * 60 * S, GapCause.TIMEOUT)
    catalog.close_gap("yard", "main", T0 + 150 * 60 * S)
    catalog.open_gap("yard", "main", T0 + 5 * HOUR, GapCause.RECONFIGURED)
    catalog.close_gap("yard", "main", T0 + 5 * HOUR + 30 * S)
    # dock: a window placed at run time 08:00-09:00, down 08:15-08:45 inside it; still down since 20:00 on day 2
    SqlAlarms(catalog).add_suppression(
        Suppression(0, "maintenance", ("dock",), T0 + 8 * HOUR, T0 + 9 * HOUR, "lens swap", "ana", T0)
    )
    catalog.open_gap("dock", "main", T0 + 8 * HOUR + 900 * S, GapCause.TIMEOUT)
    catalog.close_gap("dock", "main", T0 + 8 * HOUR + 2700 * S)
    catalog.open_gap("dock", "main", T0 + 44 * HOUR, GapCause.UNREACHABLE)
    desk = AvailabilityDesk(
        SqlHistory(catalog), lambda: config, lambda: {"sw-1": (), "dock": ("sw-1",), "yard": ("sw-1",)}
    )
    yield desk
    catalog.close()


def test_injected_downtime_is_measured_to_the_second(site: AvailabilityDesk) -> None:
    end = T0 + 48 * HOUR
    [gate] = site.figures(T0, end, cameras=["gate"], by="day")
    w = gate.series.whole
    assert w.observed_us == 48 * HOUR and w.down_us == 2400 * S and w.planned_us == 0 and w.outages == 2
    assert w.faulty_us == 600 * S, "overlapping faults counted once; a low frame rate is no picture fault"
    assert w.mttr_s == 1200 and w.mtbf_s == (48 * 3600 - 2400) / 2
    day1, day2 = (a for _, a in gate.series.buckets)
    assert (day1.down_us, day2.down_us) == (1800 * S, 600 * S), "the midnight outage is split between the days"
    assert (day1.outages, day2.outages) == (2, 1)
    [yard] = site.figures(T0, end, cameras=["yard"])
    y = yard.series.whole
    assert y.down_us == 3630 * S and y.planned_us == 1830 * S, "the window's half hour and the settings restart"
    assert y.unplanned_us == 1800 * S and y.outages == 1
    [dock] = site.figures(T0, end, cameras=["dock"])
    d = dock.series.whole
    assert d.planned_us == 1800 * S and d.down_us == 1800 * S + 4 * HOUR and d.outages == 1
    [harbour] = site.figures(T0, end, site="harbour")
    assert harbour.cameras == ("yard", "dock") and harbour.series.whole.down_us == y.down_us + d.down_us
    [switch, *each] = site.figures(T0, end, equipment="sw-1", each=True)
    assert switch.series.whole == harbour.series.whole and {f.subject for f in each} == {"camera:yard", "camera:dock"}
    text = figures_csv([gate], T0, end)
    assert "camera:gate,whole," in text and "camera:gate,2026-12-02," in text and ",2400.0,2,85200.0,1200.0" in text
    with pytest.raises(InvalidRequest):
        site.figures(end, T0)
    with pytest.raises(InvalidRequest):
        site.figures(T0, T0 + 500 * 86400 * S)


def test_a_period_reaching_into_the_future_is_counted_up_to_now(site: AvailabilityDesk) -> None:
    """dock is still down since 20:00 on day 2: asked at 22:00 for the whole of day 2 and beyond, its open gap and
    the other cameras' recording stop at now, not at the period's end."""
    now = T0 + 46 * HOUR
    site.clock = type("Clock", (), {"now_us": staticmethod(lambda: now)})()
    [dock] = site.figures(T0, T0 + 72 * HOUR, cameras=["dock"])
    assert dock.series.whole.observed_us == 46 * HOUR and dock.series.whole.down_us == 1800 * S + 2 * HOUR
    [gate] = site.figures(T0 + 24 * HOUR, T0 + 96 * HOUR, cameras=["gate"], by="day")
    assert gate.series.whole.observed_us == 22 * HOUR and len(gate.series.buckets) == 1
    pieces = site.strip("dock", T0 + 40 * HOUR, T0 + 50 * HOUR)
    assert max(p.end_us for p in pieces) == now
    [ahead] = site.figures(T0 + 50 * HOUR, T0 + 60 * HOUR, cameras=["gate"])
    assert ahead.series.whole.observed_us == 0 and ahead.series.whole.recording_share is None, "nothing observed yet"
