from vigil.domain.retention import DiskBudget, RetentionPolicy, StoredSegment, plan_retention
from vigil.domain.timeutil import US_PER_DAY

NOW = 100 * US_PER_DAY
GB = 10**9


def seg(i, cam, age_days, size=GB, held=False):
    end = NOW - int(age_days * US_PER_DAY)
    return StoredSegment(i, cam, end - 60_000_000, end, size, held)


def budget(vigil_bytes, max_bytes=None, total=100 * GB, used=None, pct=None, reserve=0, headroom=0):
    return DiskBudget(vigil_bytes, max_bytes, total, used if used is not None else vigil_bytes, pct, reserve, headroom)


def test_age_rule_deletes_only_older_than_max_age():
    segs = [seg(1, "a", 40), seg(2, "a", 20), seg(3, "b", 40)]
    policies = {"a": RetentionPolicy(min_days=0, max_age_days=30)}
    plan = plan_retention(segs, policies, RetentionPolicy(0, None), budget(3 * GB), NOW)
    assert [(d.segment_id, d.rule) for d in plan.deletions] == [(1, "max_age")]


def test_size_rule_deletes_oldest_first_across_cameras_until_under_budget():
    segs = [seg(1, "a", 5), seg(2, "b", 9), seg(3, "a", 7), seg(4, "b", 1)]
    plan = plan_retention(segs, {}, RetentionPolicy(0, None), budget(4 * GB, max_bytes=2 * GB), NOW)
    assert [d.segment_id for d in plan.deletions] == [2, 3]
    assert all(d.rule == "max_bytes" for d in plan.deletions)
    assert plan.shortfall_bytes == 0


def test_size_rule_never_deletes_footage_younger_than_legal_minimum():
    segs = [seg(1, "a", 40), seg(2, "a", 20), seg(3, "a", 10)]
    plan = plan_retention(segs, {}, RetentionPolicy(30, None), budget(3 * GB, max_bytes=1 * GB), NOW)
    assert [d.segment_id for d in plan.deletions] == [1]
    assert plan.shortfall_bytes == 1 * GB


def test_held_segments_are_never_deleted():
    segs = [seg(1, "a", 400, held=True), seg(2, "a", 300)]
    plan = plan_retention(
        segs, {"a": RetentionPolicy(0, 30)}, RetentionPolicy(0, None), budget(2 * GB, max_bytes=0), NOW
    )
    assert [d.segment_id for d in plan.deletions] == [2]


def test_headroom_makes_cleanup_run_ahead_of_the_recorder():
    segs = [seg(1, "a", 3), seg(2, "a", 2)]
    under = plan_retention(segs, {}, RetentionPolicy(0, None), budget(2 * GB, max_bytes=3 * GB), NOW)
    assert under.deletions == []
    ahead = plan_retention(segs, {}, RetentionPolicy(0, None), budget(2 * GB, max_bytes=3 * GB, headroom=GB + 1), NOW)
    assert [d.segment_id for d in ahead.deletions] == [1]


def test_percent_and_reserve_count_the_whole_volume():
    segs = [seg(1, "a", 3), seg(2, "a", 2)]
    by_pct = plan_retention(segs, {}, RetentionPolicy(0, None), budget(2 * GB, used=95 * GB, pct=94), NOW)
    assert [d.segment_id for d in by_pct.deletions] == [1]
    by_reserve = plan_retention(segs, {}, RetentionPolicy(0, None), budget(2 * GB, used=99 * GB, reserve=2 * GB), NOW)
    assert [d.segment_id for d in by_reserve.deletions] == [1]


def test_age_deletions_count_towards_the_size_rule():
    segs = [seg(1, "a", 50), seg(2, "a", 10)]
    plan = plan_retention(segs, {"a": RetentionPolicy(0, 30)}, RetentionPolicy(0, None), budget(2 * GB, 1 * GB), NOW)
    assert [d.segment_id for d in plan.deletions] == [1]
