"""Event snapshots: what is drawn on them, and that events sharing one frame do not draw on each other's."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

from vigil.domain.reports import AnalysisEvent
from vigil.media.analysis_worker import write_snapshot

GREEN = (0, 200, 0)


def event(key: str, box: list) -> AnalysisEvent:
    data = {"boxes": [box], "outline": [[0.5, 0.0], [0.5, 1.0]]}
    return AnalysisEvent("cam", "main", key, "object", 1_700_000_000_000_000, None, "A car seen", data)


def greenish(picture: np.ndarray) -> np.ndarray:
    g = picture.astype(int)
    return (g[:, :, 1] - np.maximum(g[:, :, 0], g[:, :, 2])) > 100


def test_two_events_of_one_frame_each_get_only_their_own_box(tmp_path):
    frame = np.full((360, 640, 3), 60, np.uint8)
    before = frame.copy()
    left = event("object:1", ["car", 0.9, 0.05, 0.3, 0.2, 0.3])
    right = event("object:2", ["car", 0.8, 0.7, 0.3, 0.2, 0.3])
    path1, sha1 = write_snapshot(tmp_path, left, frame)
    path2, sha2 = write_snapshot(tmp_path, right, frame)
    assert np.array_equal(frame, before), "the shared frame is not drawn on"
    one = cv2.imread(str(tmp_path / path1))
    two = cv2.imread(str(tmp_path / path2))
    assert greenish(one[:, :320]).sum() > 100 and greenish(one[:, 330:]).sum() == 0
    assert greenish(two[:, 330:]).sum() > 100 and greenish(two[:, :320]).sum() == 0
    assert hashlib.sha256((tmp_path / path1).read_bytes()).hexdigest() == sha1
    assert sha1 != sha2 and path1 != path2
    column = one[:, 320]
    assert ((column[:, 2] > 200) & (column[:, 0] < 60)).mean() > 0.9, "the line is drawn (yellow)"
