"""Gating (which part of the picture the detector sees) and ObjectWatch (detections -> tracks -> rule events),
fed detector replies frame by frame."""

from __future__ import annotations

import numpy as np

from vigil.analysis.gating import detection_crop
from vigil.analysis.objects import ObjectWatch
from vigil.domain.reports import AnalysisEvent, AnalysisEventEnd
from vigil.domain.rules import Rule, RuleKind
from vigil.ports import DetectionReply, Pictured

T0 = 1_700_000_000_000_000
STEP = 200_000  # 5 fps
W, H = 640, 360
MODEL = (416, 416)


# --- gating -------------------------------------------------------------------------------------------------
def test_nothing_moving_and_nothing_followed_means_no_detection():
    assert detection_crop([], W, H, MODEL) is None


def test_a_small_area_is_cropped_around_it_at_least_half_the_model_input_and_inside_the_picture():
    crop = detection_crop([(0.45, 0.4, 0.5, 0.5)], W, H, MODEL)
    assert crop is not None
    x1, y1, x2, y2 = crop
    assert x2 - x1 >= MODEL[0] / 2 and y2 - y1 >= MODEL[1] / 2
    assert 0 <= x1 < 0.45 * W and 0.5 * W < x2 <= W and 0 <= y1 < 0.4 * H and 0.5 * H < y2 <= H
    assert (x2 - x1) * (y2 - y1) < 0.5 * W * H


def test_an_area_at_the_edge_is_slid_inside_not_cut():
    x1, y1, x2, y2 = detection_crop([(0.97, 0.9, 1.0, 1.0)], W, H, MODEL)
    assert x2 == W and y2 == H and x2 - x1 >= MODEL[0] / 2 and y2 - y1 >= MODEL[1] / 2


def test_areas_spread_over_the_picture_send_the_whole_picture():
    assert detection_crop([(0.05, 0.1, 0.1, 0.2), (0.8, 0.7, 0.9, 0.9)], W, H, MODEL) == (0, 0, W, H)


# --- objects and rules --------------------------------------------------------------------------------------
def person_at(x: float, y: float = 0.5, score: float = 0.8) -> tuple:
    """A 40 x 100 px person standing with its feet at (x, y) (normalised)."""
    cx, bottom = x * W, y * H
    return ("person", score, cx - 20, bottom - 100, cx + 20, bottom)


def reply(found: list[tuple], k: int, crop=(0, 0, W, H)) -> DetectionReply:
    picture = np.full((H, W, 3), 40 + k % 50, np.uint8)
    return DetectionReply(T0 + k * STEP, found, picture, crop, 10.0)


def run(watch: ObjectWatch, frames: list[list[tuple]], start: int = 0) -> list:
    out = []
    for k, found in enumerate(frames, start=start):
        out += watch.reply(reply(found, k))
    return out


def plain(items: list) -> list:
    return [i.message if isinstance(i, Pictured) else i for i in items]


GATE = Rule("Gate", RuleKind.LINE_CROSS, line=((0.5, 0.0), (0.5, 1.0)), zone="Gate")


def test_a_person_walking_across_a_line_is_one_object_event_and_one_crossing_with_its_snapshot():
    watch = ObjectWatch("cam", "sub", 5.0, (GATE,))
    walk = [[person_at(0.2 + 0.03 * k)] for k in range(20)]  # 0.2 -> 0.77 across x = 0.5
    out = run(watch, walk) + run(watch, [[]] * 15, start=20)  # then gone: the track ends
    msgs = plain(out)
    opened = [m for m in msgs if isinstance(m, AnalysisEvent) and m.type == "object"]
    assert len(opened) == 1 and opened[0].data["labels"] == ["person"] and opened[0].end_us is None
    crossing = [m for m in msgs if isinstance(m, AnalysisEvent) and m.type == "line_cross"]
    assert len(crossing) == 1
    cross = crossing[0]
    assert cross.data["zone"] == "Gate" and cross.data["labels"] == ["person"]
    assert "left to right" in cross.description and cross.data["outline"] == [[0.5, 0.0], [0.5, 1.0]]
    # It fired on the frame where the feet were past the line by the margin: x = 0.2 + 0.03 k >= 0.52.
    assert cross.start_us == T0 + 11 * STEP
    label, _score, x, y, w, h = cross.data["boxes"][0]
    assert label == "person" and abs((x + w / 2) - (0.2 + 0.03 * 11)) < 0.02 and abs(y + h - 0.5) < 0.02
    pictured = [i for i in out if isinstance(i, Pictured)]
    assert len(pictured) == 2 and all(p.picture.shape == (H, W, 3) for p in pictured)
    ends = [m for m in msgs if isinstance(m, AnalysisEventEnd) and m.key == opened[0].key]
    assert len(ends) == 1 and ends[0].score == 0.8 and "seen from" in ends[0].description


def test_the_snapshot_is_a_copy_made_at_the_hit_not_the_reused_buffer():
    watch = ObjectWatch("cam", "sub", 5.0, (GATE,))
    buffer = np.zeros((H, W, 3), np.uint8)
    out = []
    for k in range(20):
        buffer[...] = k  # the shared buffer is overwritten by every frame
        out += watch.reply(DetectionReply(T0 + k * STEP, [person_at(0.2 + 0.03 * k)], buffer, (0, 0, W, H), 1.0))
    cross = next(p for p in out if isinstance(p, Pictured) and p.message.type == "line_cross")
    assert cross.picture is not buffer and int(cross.picture[0, 0, 0]) == 11


def test_objects_are_not_reported_when_object_events_are_off_but_rules_still_fire():
    watch = ObjectWatch("cam", "sub", 5.0, (GATE,), report_objects=False)
    msgs = plain(run(watch, [[person_at(0.2 + 0.03 * k)] for k in range(20)]))
    assert [m.type for m in msgs if isinstance(m, AnalysisEvent)] == ["line_cross"]


def test_a_crowd_is_one_open_event_closed_when_it_disperses():
    yard = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    crowd = Rule("Crowd", RuleKind.CROWD, zone="Yard", polygon=yard, min_count=3, min_s=1.0)
    watch = ObjectWatch("cam", "sub", 5.0, (crowd,), report_objects=False)
    three = [person_at(0.2), person_at(0.5), person_at(0.8)]
    msgs = plain(run(watch, [three] * 15) + run(watch, [[person_at(0.2)]] * 5, start=15))
    opened = [m for m in msgs if isinstance(m, AnalysisEvent)]
    closed = [m for m in msgs if isinstance(m, AnalysisEventEnd)]
    assert len(opened) == 1 and opened[0].end_us is None and opened[0].key == "rule:Crowd"
    assert "3 people gathered in zone 'Yard'" in opened[0].description
    assert len(closed) == 1 and closed[0].key == "rule:Crowd" and "dispersed" in closed[0].description


def test_areas_follow_moving_tracks_every_frame_and_stationary_ones_only_on_recheck():
    watch = ObjectWatch("cam", "sub", 5.0, recheck_s=2.0)
    run(watch, [[person_at(0.3)]] * 25)  # standing still for 5 s: stationary after 3 s
    at = T0 + 25 * STEP
    first = watch.areas(at)
    assert len(first) == 1  # a recheck is due: it is looked at
    assert watch.areas(at + STEP) == []  # then not again until recheck_s has passed
    assert len(watch.areas(at + 11 * STEP)) == 1


def test_a_track_outside_the_crop_is_not_lost_because_it_was_not_looked_for():
    watch = ObjectWatch("cam", "sub", 5.0)
    run(watch, [[person_at(0.2)]] * 5)
    crop_elsewhere = (400, 0, 640, 360)  # the detector looked only at the right of the picture
    out = []
    for k in range(5, 40):
        out += watch.reply(reply([], k, crop=crop_elsewhere))
    assert not [m for m in plain(out) if isinstance(m, AnalysisEventEnd)], "the person was never looked for"
    out = []
    for k in range(40, 60):
        out += watch.reply(reply([], k))  # now the whole picture is looked at and it is empty
    assert [m for m in plain(out) if isinstance(m, AnalysisEventEnd)]


def test_a_new_picture_size_ends_what_was_followed_and_starts_afresh():
    watch = ObjectWatch("cam", "sub", 5.0)
    run(watch, [[person_at(0.2)]] * 5)
    bigger = DetectionReply(T0 + 5 * STEP, [], np.zeros((720, 1280, 3), np.uint8), (0, 0, 1280, 720), 1.0)
    msgs = plain(watch.reply(bigger))
    assert [m.key for m in msgs if isinstance(m, AnalysisEventEnd)] == ["object:1"]


# --- the camera's side of the link ---------------------------------------------------------------------------
class RecordingLink:
    """Answers every request with nothing found, noting what was asked (the camera's view of the port)."""

    connected, busy = True, False

    def __init__(self) -> None:
        self.asked: list[tuple[int, tuple[int, int, int, int]]] = []
        self._reply: DetectionReply | None = None

    def submit(self, picture, crop, at_us):
        self.asked.append((at_us, crop))
        self._reply = DetectionReply(at_us, [], picture, crop, 0.0)
        return True

    def poll(self):
        reply, self._reply = self._reply, None
        return reply

    def close(self):
        pass


def test_a_still_picture_is_looked_at_whole_at_first_and_then_only_every_whole_look_s():
    from vigil.analysis.camera import AnalysisSettings, CameraAnalysis

    link = RecordingLink()
    analysis = CameraAnalysis("cam", "sub", AnalysisSettings(faults=False, whole_look_s=10.0), detection=link)
    gray = np.full((180, 320), 90, np.uint8)
    colour = np.zeros((H, W, 3), np.uint8)
    for k in range(60):  # 12 s of a picture where nothing moves
        analysis.feed(gray, T0 + k * STEP, lambda: colour)
    assert link.asked == [(T0, (0, 0, W, H)), (T0 + 50 * STEP, (0, 0, W, H))]

    moving = gray.copy()
    moving[80:110, 150:170] = 250  # something appears: only its surroundings are looked at
    analysis.feed(moving, T0 + 60 * STEP, lambda: colour)
    at, (x1, y1, x2, y2) = link.asked[-1]
    assert at == T0 + 60 * STEP and (x2 - x1) * (y2 - y1) < 0.5 * W * H
    assert x1 <= 300 <= x2 and y1 <= 160 <= y2  # the bright patch, in the 640 x 360 picture's pixels


def test_nothing_is_sent_while_a_picture_fault_is_raised():
    from vigil.analysis.camera import AnalysisSettings, CameraAnalysis

    link = RecordingLink()
    analysis = CameraAnalysis("cam", "sub", AnalysisSettings(whole_look_s=1.0), detection=link)
    rng = np.random.default_rng(1)
    scene = rng.integers(30, 220, (180, 320), dtype=np.uint8)
    for k in range(30):
        analysis.feed(scene, T0 + k * STEP, lambda: np.zeros((H, W, 3), np.uint8))
    asked = len(link.asked)
    black = np.zeros((180, 320), np.uint8)
    out = []
    for k in range(30, 60):
        out += analysis.feed(black, T0 + k * STEP, lambda: np.zeros((H, W, 3), np.uint8))
    assert any(getattr(m, "key", "") == "fault:black" for m in out)
    raised_at = next(m.start_us for m in out if getattr(m, "key", "") == "fault:black")
    assert all(at <= raised_at + 1_000_000 for at, _ in link.asked[asked:]), "no requests once the fault is up"
