"""A camera's analysis turned into events, and those events written to a real SQLite catalog."""

import itertools

import numpy as np
import pytest

from vigil.analysis.camera import AnalysisSettings, CameraAnalysis
from vigil.domain.reports import AnalysisEvent, AnalysisEventEnd
from vigil.storage.catalog import SqlCatalog
from vigil.storage.migrate import upgrade_to_head
from vigil.usecases.analysis_reports import AnalysisReports

STEP_US = 200_000
T0 = 1_764_000_000_000_000


def scene(rng: np.random.Generator) -> np.ndarray:
    base = np.zeros((120, 160), np.float32)
    for k in range(12):
        base[10 * k : 10 * k + 6, :] = 60 + 12 * k
    base[:, ::20] = 200
    return np.clip(base + rng.normal(0, 1.5, base.shape), 0, 255).astype(np.uint8)


def feed(analysis: CameraAnalysis, frames, start: int = 0) -> list:
    out = []
    for k, frame in enumerate(frames):
        out += analysis.feed(frame, T0 + (start + k) * STEP_US)
    return out


def test_a_burst_of_motion_is_one_event_with_its_end():
    rng = np.random.default_rng(1)
    analysis = CameraAnalysis("cam1", "main", AnalysisSettings(fps=5, faults=False))
    feed(analysis, [scene(rng) for _ in range(20)])
    moving = []
    for k in range(10):
        frame = scene(rng)
        frame[40:70, 10 + 10 * k : 30 + 10 * k] = 250
        moving.append(frame)
    messages = feed(analysis, moving, start=20) + feed(analysis, [scene(rng) for _ in range(25)], start=30)
    assert [type(m) for m in messages] == [AnalysisEvent, AnalysisEventEnd]
    began, ended = messages
    assert began.type == "motion" and began.start_us == T0 + 20 * STEP_US
    assert ended.end_us == T0 + 29 * STEP_US and "for 1.8 s" in ended.description


def test_a_black_picture_is_a_fault_event_that_ends_when_the_picture_returns_and_hides_motion():
    rng = np.random.default_rng(2)
    analysis = CameraAnalysis("cam1", "main", AnalysisSettings(fps=5))
    feed(analysis, [scene(rng) for _ in range(30)])
    black = feed(analysis, [np.full((120, 160), 5, np.uint8) for _ in range(10)], start=30)
    assert [(type(m).__name__, getattr(m, "key", "")) for m in black] == [("AnalysisEvent", "fault:black")]
    assert black[0].start_us == T0 + 30 * STEP_US and "black" in black[0].description
    back = feed(analysis, [scene(rng) for _ in range(20)], start=40)
    ends = [m for m in back if isinstance(m, AnalysisEventEnd)]
    assert [m.key for m in ends] == ["fault:black"] and "recovered after" in ends[0].description


def test_events_are_opened_and_closed_in_the_catalog(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    upgrade_to_head(url)
    catalog = SqlCatalog(url)
    reports = AnalysisReports(catalog)
    reports.handle(AnalysisEvent("cam1", "main", "fault:covered", "fault", T0, None, "covered", {"fault": "covered"}))
    reports.handle(AnalysisEvent("cam1", "main", "motion", "motion", T0 + 5, None, "Motion from 10:00:00"))
    reports.handle(AnalysisEventEnd("cam1", "fault:covered", T0 + 9_000_000, "covered, recovered after 9.0 s"))
    reports.handle(AnalysisEventEnd("cam1", "fault:covered", T0 + 10_000_000))  # not open any more: ignored
    reports.close_all("cam1", T0 + 20_000_000)
    events = {e.type: e for e in catalog.events(camera_id="cam1")}
    assert events["fault"].end_us == T0 + 9_000_000 and events["fault"].description.endswith("after 9.0 s")
    assert events["fault"].data == {"fault": "covered", "key": "fault:covered"}
    assert events["motion"].end_us == T0 + 20_000_000


def test_a_resolution_change_mid_stream_restarts_the_models_without_false_events():
    rng = np.random.default_rng(3)
    analysis = CameraAnalysis("cam1", "main", AnalysisSettings(fps=5))
    feed(analysis, [scene(rng) for _ in range(30)])
    smaller = [scene(rng)[::2, ::2].copy() for _ in range(30)]  # the camera switched to half the resolution
    messages = feed(analysis, smaller, start=30)
    assert messages == [], [getattr(m, "description", m) for m in messages]
    black = feed(analysis, [np.full((60, 80), 5, np.uint8) for _ in range(5)], start=60)
    assert [getattr(m, "key", "") for m in black] == ["fault:black"], "still watching at the new size"


def test_motion_inside_the_motion_mask_is_ignored():
    rng = np.random.default_rng(4)
    left_half = (((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)),)
    analysis = CameraAnalysis("cam1", "main", AnalysisSettings(fps=5, faults=False), mask_polygons=left_half)
    feed(analysis, [scene(rng) for _ in range(20)])

    def waving(x0: int) -> list:
        frames = []
        for k in range(5):
            frame = scene(rng)
            frame[40:70, x0 + 4 * k : x0 + 20 + 4 * k] = 250
            frames.append(frame)
        return frames

    assert feed(analysis, waving(10), start=20) == [], "a flag waving in the masked half"
    began = feed(analysis, waving(110), start=25)
    assert [m.type for m in began] == ["motion"] and began[0].data["regions"][0][0] > 0.5


def test_a_looping_file_keeps_real_time_pace_across_its_rewinds():
    from vigil.media.analysis_worker import _Pace

    pace = _Pace()
    times = [k * 0.04 for k in range(150)]  # a 6 s clip at 25 fps, played twice
    aheads = [pace.ahead_s(t) for t in times + times]
    assert aheads[149] == pytest.approx(5.96, abs=0.05)
    assert aheads[150] == pytest.approx(6.0, abs=0.05), "the second loop continues the timeline"
    assert aheads[-1] == pytest.approx(11.96, abs=0.05)
    assert all(b >= a - 0.01 for a, b in itertools.pairwise(aheads)), "never jumps back (no burst of frames)"


def test_events_are_found_by_words_in_their_description_wildcards_taken_literally(tmp_path):
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    upgrade_to_head(url)
    catalog = SqlCatalog(url)
    catalog.add_event("fault", T0, "The lens is COVERED (30% of its usual detail)", camera_id="cam1")
    catalog.add_event("motion", T0 + 1, "Motion from 10:00:00 for 4.0 s", camera_id="cam1")
    catalog.add_event("fault", T0 + 2, "The picture is blurred", camera_id="cam2")
    assert [e.type for e in catalog.events(text="covered")] == ["fault"]
    assert [e.camera_id for e in catalog.events(text="30%")] == ["cam1"]
    assert catalog.events(text="3_%") == [], "% and _ are matched as written, not as wildcards"
    assert {e.camera_id for e in catalog.events(types=["fault"], text="the")} == {"cam1", "cam2"}
