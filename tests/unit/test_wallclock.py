from vigil.domain.wallclock import WallClockMapper

FRAME = 40_000  # µs; 1 tick = 1 µs here


def test_a_steady_live_stream_maps_to_arrival_times():
    m = WallClockMapper(1.0)
    t0 = 1_000_000_000
    walls = [m.wall(i * FRAME, t0 + i * FRAME + 5_000) for i in range(100)]
    assert walls[1] - walls[0] == FRAME and walls[-1] - walls[0] == 99 * FRAME


def test_a_burst_at_connect_moves_the_anchor_back_and_keeps_frame_spacing():
    m = WallClockMapper(1.0)
    t0 = 1_000_000_000
    # 25 buffered frames arrive at once, then frames arrive live, 1 s late relative to capture
    arrivals = [t0 + 1_000] * 25 + [t0 + (i - 24) * FRAME for i in range(25, 100)]
    walls = [m.wall(i * FRAME, a) for i, a in enumerate(arrivals)]
    assert all(w <= a for w, a in zip(walls, arrivals, strict=True)), "never after arrival"
    start = m.segment_boundary(0)
    end = m.segment_boundary(50 * FRAME)
    assert end - start == 50 * FRAME, "50 frames span exactly 2 s"


def test_a_slow_camera_clock_is_corrected_at_segment_boundaries_only():
    m = WallClockMapper(1.0, drift_limit_us=1_000_000)
    t0 = 1_000_000_000
    # camera clock runs 1% slow: each frame arrives 40.4 ms after the previous one
    for i in range(300):
        m.wall(i * FRAME, t0 + round(i * FRAME * 1.01))
    lag_before = t0 + round(299 * FRAME * 1.01) - m.wall(299 * FRAME, t0 + round(299 * FRAME * 1.01))
    assert lag_before > 100_000
    assert m.segment_boundary(300 * FRAME) == t0 + 300 * FRAME, "lag under the limit: no correction"
    for i in range(300, 600):
        m.wall(i * FRAME, t0 + round(i * FRAME * 1.01) + 2_000_000)  # then a 2 s delivery lag for a whole segment
    corrected = m.segment_boundary(600 * FRAME)
    assert corrected > t0 + 600 * FRAME + 1_000_000
