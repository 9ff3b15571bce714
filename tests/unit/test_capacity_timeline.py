from vigil.domain.capacity import capacity_bytes, forecast_capacity
from vigil.domain.describe import duration_words
from vigil.domain.segment import Gap, GapCause, Segment
from vigil.domain.timeline import gaps_between, recorded_spans
from vigil.domain.timeutil import iso_from_us, parse_instant


def test_capacity_is_the_tightest_limit():
    assert capacity_bytes(None, None, 1000, 100, 50) == 850
    assert capacity_bytes(500, None, 1000, 100, 50) == 500
    assert capacity_bytes(None, 50.0, 1000, 100, 0) == 400


def test_forecast_says_when_the_legal_minimum_does_not_fit():
    per_s = 1_000_000 / 86_400  # 1 MB a day
    f = forecast_capacity(20_000_000, {"a": per_s, "b": per_s}, {"a": 30, "b": 7})
    assert round(f.bytes_per_day) == 2_000_000
    assert round(f.days_of_capacity or 0) == 10
    assert f.days_required == 30
    assert f.required_bytes == 37_000_000 and not f.ok
    assert "short by" in f.describe()
    assert forecast_capacity(10**9, {"a": per_s}, {"a": 30}).ok


def test_forecast_without_measurements():
    f = forecast_capacity(100, {}, {"a": 30})
    assert f.days_of_capacity is None and "unknown" in f.describe()


def _seg(i, start, end):
    return Segment(i, "c", "main", f"p{i}", start, end, 1, "x", None, "h264", 1, 1, 1, False)


def test_spans_join_touching_segments_and_gaps_carry_causes():
    segs = [_seg(1, 0, 10_000_000), _seg(2, 10_100_000, 20_000_000), _seg(3, 30_000_000, 40_000_000)]
    spans = recorded_spans(segs)
    assert [(s.start_us, s.end_us, s.segment_count) for s in spans] == [(0, 20_000_000, 2), (30_000_000, 40_000_000, 1)]
    gaps = gaps_between(spans, [Gap("c", "main", 20_000_000, 30_000_000, GapCause.TIMEOUT)], 0, 50_000_000)
    assert [(g.start_us, g.end_us, g.cause) for g in gaps] == [
        (20_000_000, 30_000_000, "timeout"),
        (40_000_000, 50_000_000, "unknown"),
    ]


def test_time_parsing_and_words():
    us = parse_instant("2026-11-24T10:00:00Z")
    assert iso_from_us(us) == "2026-11-24T10:00:00.000Z"
    assert parse_instant("2026-11-24T18:00:00+08:00") == us
    assert parse_instant(str(us)) == us
    assert duration_words(192) == "3 min 12 s" and duration_words(3.25) == "3.2 s"
