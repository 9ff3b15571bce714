import random

import pytest

from vigil.domain.timestamps import DecodeTimes, Repair, TimestampRepairer


def feed(pairs, frame=10, jump=1000):
    r = TimestampRepairer(frame, jump)
    return [r.repair(d, p) for d, p in pairs]


def test_clean_stream_passes_unchanged():
    out = feed([(i * 10, i * 10 + 20) for i in range(50)])
    assert [o.dts for o in out] == [i * 10 for i in range(50)]
    assert all(o.repair is Repair.NONE for o in out)


def test_missing_timestamps_are_filled():
    out = feed([(0, 0), (None, 10), (20, None), (None, None), (40, 40)])
    assert [o.dts for o in out] == [0, 10, 20, 30, 40]
    assert [o.repair for o in out][1:4] == [Repair.FILLED] * 3


def test_duplicate_and_small_backward_dts_are_nudged():
    out = feed([(0, 0), (10, 10), (10, 10), (8, 8), (30, 30)])
    dts = [o.dts for o in out]
    assert dts == sorted(set(dts)), "DTS must strictly increase"
    assert out[2].repair is Repair.NUDGED and out[3].repair is Repair.NUDGED
    assert out[4].dts == 30


@pytest.mark.parametrize("jump_to", [-500, 5000])
def test_big_jumps_are_rebased_to_continue_one_frame_later(jump_to):
    out = feed([(0, 0), (10, 10), (20, 20), (jump_to, jump_to), (jump_to + 10, jump_to + 10)])
    assert out[3].repair is Repair.REBASED
    assert out[3].dts == 30 and out[4].dts == 40


def test_loop_restart_of_a_file_continues_the_timeline():
    one_loop = [(i * 10, i * 10) for i in range(20)]
    out = feed(one_loop + one_loop)
    assert [o.dts for o in out] == [i * 10 for i in range(40)]


def test_random_garbage_always_gives_increasing_dts_and_pts_not_below_dts():
    rng = random.Random(7)
    r = TimestampRepairer(3000, 900_000)
    last = None
    for i in range(5000):
        base = i * 3000 + rng.choice([0, 0, 0, -3000, -1, 5_000_000, -9_000_000, 1])
        dts = None if rng.random() < 0.05 else base
        pts = None if rng.random() < 0.05 else base + rng.choice([0, 3000, 6000, -6000])
        out = r.repair(dts, pts)
        assert out.pts >= out.dts
        if last is not None:
            assert out.dts > last
        last = out.dts


def test_rejects_nonsense_parameters():
    with pytest.raises(ValueError):
        TimestampRepairer(0, 10)


def test_decode_times_equal_presentation_times_without_reordering():
    times = DecodeTimes(0)
    assert [times.dts(p, 10) for p in (100, 110, 120)] == [100, 110, 120]


@pytest.mark.parametrize(
    ("order", "reorder"),
    [
        ([0, 3, 1, 2, 6, 4, 5, 9, 7, 8], 1),  # I P B B P B B ...
        ([0, 4, 2, 1, 3, 8, 6, 5, 7, 12, 10, 9, 11], 2),  # hierarchical B (pyramid)
    ],
)
def test_decode_times_of_reordered_pictures_increase_and_never_pass_their_presentation(order, reorder):
    times = DecodeTimes(reorder)
    dts = [times.dts(10 * p, 10) for p in order]
    assert dts == sorted(dts) and len(set(dts)) == len(dts), "strictly increasing"
    assert all(d <= 10 * p for d, p in zip(dts, order, strict=True))


def test_reordering_is_learned_when_the_parameter_sets_do_not_say():
    times = DecodeTimes(0)
    dts = [times.dts(10 * p, 10) for p in [0, 3, 1, 2, 6, 4, 5, 9, 7, 8]]
    assert times.reorder_frames == 1
    assert dts[4:] == sorted(dts[4:]), "in order once learned"
