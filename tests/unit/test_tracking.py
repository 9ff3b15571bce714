from vigil.analysis.tracking import Detection, Tracker, TrackerSettings

FPS = 5.0
STEP = int(1e6 / FPS)


def person(x: float, y: float, score: float = 0.9, w: float = 30, h: float = 80) -> Detection:
    return Detection("person", score, (x, y, x + w, y + h))


def run(tracker: Tracker, frames: list[list[Detection]], start: int = 0) -> list[list[tuple[int, tuple]]]:
    out = []
    for k, dets in enumerate(frames):
        tracks = tracker.update(dets, (start + k) * STEP)
        out.append([(t.track_id, t.box) for t in tracks])
    return out


def test_two_people_crossing_keep_their_ids():
    tracker = Tracker(FPS)
    frames = [[person(10 + 12 * k, 100), person(250 - 12 * k, 104)] for k in range(20)]
    seen = run(tracker, frames)
    first = dict(seen[1])  # confirmed on the second frame
    walker = min(first, key=lambda tid: first[tid][0])  # the one that started on the left
    assert all(len(frame) == 2 for frame in seen[1:]), "both tracked in every frame"
    assert {tid for frame in seen for tid, _ in frame} == set(first), "no new ids while crossing"
    for k, frame in enumerate(seen[1:], start=1):
        assert abs(dict(frame)[walker][0] - (10 + 12 * k)) < 1, f"frame {k}: the left walker's id moved to the other"


def test_a_single_false_detection_never_becomes_a_track():
    tracker = Tracker(FPS)
    assert run(tracker, [[person(50, 50)], [], [], []]) == [[], [], [], []]


def test_a_missed_frame_or_a_weak_detection_keeps_the_id():
    tracker = Tracker(FPS)
    frames = [[person(10 + 5 * k, 50)] for k in range(5)] + [[]] + [[person(40, 50, score=0.2)]]
    frames += [[person(45 + 5 * k, 50)] for k in range(3)]
    seen = run(tracker, frames)
    ids = {tid for frame in seen for tid, _ in frame}
    assert ids == {1}
    assert seen[5] == [] and seen[6] != [], "the weak detection continued the track"


def test_a_weak_detection_alone_starts_nothing():
    tracker = Tracker(FPS)
    assert run(tracker, [[person(50, 50, score=0.3)]] * 5) == [[]] * 5


def test_labels_never_mix():
    tracker = Tracker(FPS)
    car = Detection("car", 0.9, (10, 50, 40, 130))
    run(tracker, [[person(10, 50)]] * 3)
    seen = run(tracker, [[car]] * 3, start=3)
    assert {t.label for t in tracker.tracks} == {"person", "car"}
    assert all(tid != 1 for frame in seen for tid, _ in frame)


def test_a_track_ends_after_it_has_been_missing_long_enough():
    tracker = Tracker(FPS, TrackerSettings(max_missed_s=1.0))
    run(tracker, [[person(10, 50)]] * 3)
    ended = []
    for k in range(6):
        tracker.update([], (3 + k) * STEP)
        ended += tracker.ended
    assert tracker.tracks == [] and ended == [1], "the end is reported once, for the rules"


def test_a_parked_object_is_stationary_and_a_walker_is_not():
    tracker = Tracker(FPS)
    frames = [[person(10 + (k % 2), 50), person(100 + 8 * k, 200)] for k in range(25)]
    run(tracker, frames)
    by_x = sorted(tracker.tracks, key=lambda t: t.box[0])
    assert by_x[0].stationary and not by_x[1].stationary


def test_colour_picks_the_right_person_when_overlap_cannot():
    import numpy as np

    frame = np.full((200, 300, 3), 90, np.uint8)
    frame[50:130, 100:130] = (0, 0, 220)  # a person in red (BGR)
    tracker = Tracker(FPS)
    for k in range(3):
        tracker.update([person(100, 50)], k * STEP, frame)
    # next frame: two people equally close to where the red one should be; only one of them is red
    moved = np.full((200, 300, 3), 90, np.uint8)
    moved[50:130, 95:125] = (220, 0, 0)  # blue, 5 px to the left
    moved[50:130, 105:135] = (0, 0, 220)  # red, 5 px to the right (drawn on top)
    left, right = person(95, 50), person(105, 50)
    tracks = tracker.update([left, right], 3 * STEP, moved)
    red_track = next(t for t in tracks if t.track_id == 1)
    assert red_track.box == right.box


def test_an_object_that_moved_past_its_own_box_between_detections_keeps_its_id():
    """A loaded detector answers a camera less often: between two answers a walker may move further than his
    width, so the boxes no longer overlap. Distance-IoU still matches him to his track; plain IoU could not."""
    tracker = Tracker(fps=5.0)
    ids = set()
    for k in range(12):  # 40 px wide, 50 px further at every answer (answers 0.4 s apart)
        x = 50 + 50 * k
        seen = tracker.update([Detection("person", 0.9, (x, 100, x + 40, 200))], k * 400_000)
        ids |= {t.track_id for t in seen}
    assert ids == {1}


def test_two_people_far_apart_are_not_swapped_by_distance_matching():
    tracker = Tracker(fps=5.0)
    for k in range(10):
        a = 100 + 10 * k
        b = 500 - 10 * k
        seen = tracker.update(
            [Detection("person", 0.9, (a, 100, a + 40, 200)), Detection("person", 0.9, (b, 100, b + 40, 200))],
            k * 200_000,
        )
    left = min(seen, key=lambda t: t.box[0])
    assert left.track_id == 1 and len({t.track_id for t in seen}) == 2
