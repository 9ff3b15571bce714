"""Legal holds and the purpose limit, as pure functions; retention planning with holds (both rules)."""

from vigil.domain.holds import LegalHold, beyond_purpose, mark_held, uncovered
from vigil.domain.retention import DiskBudget, RetentionPolicy, StoredSegment, plan_retention
from vigil.domain.timeutil import US_PER_DAY

NOW = 100 * US_PER_DAY
GB = 10**9
H = 3600 * 1_000_000


def hold(i, cam, start, end, lifted=False):
    return LegalHold(i, cam, start, end, 0, "admin", "case", lifted_us=1 if lifted else None)


def seg(i, cam, age_days, size=GB):
    end = NOW - int(age_days * US_PER_DAY)
    return StoredSegment(i, cam, end - 60_000_000, end, size)


def test_active_holds_mark_the_segments_they_overlap_on_their_camera_only():
    segs = [seg(1, "a", 40), seg(2, "a", 20), seg(3, "b", 40), seg(4, "a", 10)]
    holds = [
        hold(1, "a", segs[0].start_us + 1, segs[0].start_us + 2),  # inside segment 1: it is kept whole
        hold(2, "a", segs[3].start_us, segs[3].end_us, lifted=True),  # lifted: holds nothing
    ]
    held = {s.id for s in mark_held(segs, holds) if s.held}
    assert held == {1}
    assert mark_held(segs, []) == segs


def test_uncovered_and_the_purpose_limit():
    holds = [hold(1, "a", 10, 20), hold(2, "a", 15, 30), hold(3, "b", 0, 100), hold(4, "a", 40, 50, lifted=True)]
    assert uncovered("a", 0, 60, holds) == [(0, 10), (30, 60)]
    assert uncovered("a", 12, 28, holds) == []
    now = 10 * US_PER_DAY
    old_start, old_end = 1 * US_PER_DAY, 2 * US_PER_DAY
    assert beyond_purpose("a", old_start, old_end, now, None, []) is None, "no limit"
    assert beyond_purpose("a", old_start, old_end, now, 30, []) is None, "young enough"
    assert beyond_purpose("a", old_start, old_end, now, 7, []) == (old_start, old_end)
    cover = [hold(9, "a", old_start, old_end)]
    assert beyond_purpose("a", old_start, old_end, now, 7, cover) is None, "a hold opens it"
    half = [hold(9, "a", old_start, old_start + H)]
    assert beyond_purpose("a", old_start, old_end, now, 7, half) == (old_start + H, old_end)
    recent = now - 3 * US_PER_DAY
    assert beyond_purpose("a", recent - H, recent + H, now, 7, []) is None, "only the part past the limit counts"


def test_a_hold_keeps_segments_from_the_age_rule_and_the_size_rule():
    segs = [seg(1, "a", 400), seg(2, "a", 300), seg(3, "a", 200), seg(4, "a", 5)]
    policies = {"a": RetentionPolicy(min_days=0, max_age_days=250)}
    held = mark_held(segs, [hold(1, "a", segs[0].start_us, segs[1].end_us)])
    plan = plan_retention(
        held, policies, RetentionPolicy(0, None), DiskBudget(4 * GB, 2 * GB, 100 * GB, 4 * GB, None, 0, 0), NOW
    )
    assert [(d.segment_id, d.rule) for d in plan.deletions] == [(3, "max_bytes"), (4, "max_bytes")]
    assert plan.kept_by_hold == 2, "segments 1 and 2 were due by age; the size rule went on past them"
    by_size = plan_retention(
        held, {}, RetentionPolicy(0, None), DiskBudget(4 * GB, 3 * GB, 100 * GB, 4 * GB, None, 0, 0), NOW
    )
    assert [d.segment_id for d in by_size.deletions] == [3]
    assert by_size.kept_by_hold == 2
