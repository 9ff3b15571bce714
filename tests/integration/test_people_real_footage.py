"""The bundled detector and the tracker on PETS09-S2L1 against its ground truth (a slice; full figures in
bench/people.py). Video frame n (0-based) is ground-truth frame n+1; conf-0 rows are ignore regions."""

import av
import motmetrics as mm
import numpy as np
import pytest

from support.media import SHARED_DATA, requires_shared_data
from vigil.analysis.detector import OnnxDetector
from vigil.analysis.tracking import Tracker, iou_matrix

pytestmark = [requires_shared_data, pytest.mark.shared_data]
PETS = SHARED_DATA / "pets09-s2l1"


def truth() -> dict[int, list[tuple[int, tuple[float, float, float, float]]]]:
    boxes: dict[int, list] = {}
    for line in (PETS / "gt.txt").read_text().splitlines():
        f, tid, left, top, w, h, conf = (float(v) for v in line.split(",")[:7])
        if conf != 0:
            boxes.setdefault(int(f), []).append((int(tid), (left, top, left + w, top + h)))
    return boxes


def frames(every: int, limit: int):
    with av.open(str(PETS / "vtest.avi")) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index >= limit:
                return
            if index % every == 0:
                yield index, frame.to_ndarray(format="bgr24")


def test_people_are_found_where_the_ground_truth_has_them():
    detector, gt = OnnxDetector(), truth()
    found = total = 0
    for index, bgr in frames(every=20, limit=795):
        people = [d.box for d in detector.detect(bgr) if d.label == "person"]
        expected = [b for _, b in gt.get(index + 1, [])]
        total += len(expected)
        if people and expected:
            found += int((iou_matrix(np.array(expected), np.array(people)).max(axis=1) >= 0.5).sum())
    assert total > 100
    assert found / total >= 0.8, f"recall {found / total:.2f}"


def test_tracking_scores_against_the_ground_truth():
    detector, gt, tracker = OnnxDetector(), truth(), Tracker(fps=5.0)
    acc = mm.MOTAccumulator(auto_id=True)
    for index, bgr in frames(every=2, limit=200):  # 5 fps of the 10 fps container
        people = [d for d in detector.detect(bgr) if d.label == "person"]
        tracks = tracker.update(people, index * 100_000, bgr)
        expected = gt.get(index + 1, [])
        if expected and tracks:
            iou = iou_matrix(np.array([b for _, b in expected]), np.array([t.box for t in tracks]))
            dist = np.where(iou >= 0.5, 1 - iou, np.nan)
        else:
            dist = np.empty((len(expected), len(tracks)))
        acc.update([tid for tid, _ in expected], [t.track_id for t in tracks], dist)
    scores = mm.metrics.create().compute(acc, metrics=["mota", "idf1"], name="pets")
    mota, idf1 = float(scores["mota"].iloc[0]), float(scores["idf1"].iloc[0])
    assert mota >= 0.5 and idf1 >= 0.5, f"MOTA {mota:.3f} IDF1 {idf1:.3f} on PETS frames 0-199"
