"""Multi-object tracking: detections in consecutive analysed frames become tracks with stable ids.

ByteTrack's association (Zhang et al., 2022) on a constant-velocity Kalman filter per track:

1. predict every track to this frame;
2. match tracks to the confident detections (score >= ``high_score``) by distance-IoU, optimally (Hungarian);
3. match the tracks still unmatched to the weak detections (an occluded person scores low but is still there);
4. unmatched confident detections start new tracks, which are *confirmed* after ``min_hits`` frames (a single
   false detection never becomes a track); tracks unseen for ``max_missed_s`` end.

Only detections of the track's own label match it. A track is *stationary* while its centre has moved less
than ``stationary_fraction`` of its size over the last ``stationary_s``: a parked car keeps its id but rules can
tell it from a moving one.

Why not a library: norfair pins numpy < 2 and supervision needs the GUI build of OpenCV (which clashes with the
headless build Vigil uses); the algorithm is small enough to own, test and tune.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in frame pixels
Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Detection:
    label: str
    score: float
    box: Box


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    high_score: float = 0.5
    match_diou: float = -0.3  # at least this distance-IoU with the predicted box to match (see diou_matrix)
    min_hits: int = 2
    max_missed_s: float = 2.0
    stationary_s: float = 3.0
    stationary_fraction: float = 0.25
    appearance_weight: float = 0.5  # how much a colour mismatch costs against (1 - DIoU) when frames are given


class _Kalman:
    """Constant velocity on (cx, cy, w, h); noise scaled by the box size as in SORT/ByteTrack."""

    _H = np.eye(4, 8)

    def __init__(self, box: Box) -> None:
        self.x = np.zeros(8)
        self.x[:4] = _to_xywh(box)
        size = max(self.x[2], self.x[3])
        self.P = np.diag([2.0, 2.0, 2.0, 2.0, 10.0, 10.0, 10.0, 10.0]) * (0.1 * size) ** 2

    def predict(self, steps: float = 1.0) -> None:
        """Move ``steps`` analysis periods ahead (fewer or more when detections come irregularly)."""
        size = max(self.x[2], self.x[3], 1.0)
        q = np.diag([0.05, 0.05, 0.05, 0.05, 0.01, 0.01, 0.01, 0.01]) * size**2 * steps
        f = np.eye(8)
        f[:4, 4:] = np.eye(4) * steps
        self.x = f @ self.x
        self.x[2:4] = np.maximum(self.x[2:4], 1.0)
        self.P = f @ self.P @ f.T + q

    def update(self, box: Box) -> None:
        size = max(self.x[2], self.x[3], 1.0)
        r = np.eye(4) * (0.05 * size) ** 2
        s = self._H @ self.P @ self._H.T + r
        k = self.P @ self._H.T @ np.linalg.inv(s)
        self.x = self.x + k @ (np.asarray(_to_xywh(box)) - self._H @ self.x)
        self.P = (np.eye(8) - k @ self._H) @ self.P

    @property
    def box(self) -> Box:
        cx, cy, w, h = (float(v) for v in self.x[:4])
        return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


@dataclass
class Track:
    track_id: int
    label: str
    first_us: int
    last_us: int
    best_score: float
    hits: int = 1
    missed: int = 0
    confirmed: bool = False
    box: Box = (0.0, 0.0, 0.0, 0.0)  # the last matched detection's box (the filter's is used for matching)
    stationary: bool = False
    _filter: _Kalman | None = None
    _look: npt.NDArray[np.float32] | None = None  # colour histogram, followed as the track is seen
    _centres: deque[tuple[int, float, float]] = field(default_factory=lambda: deque(maxlen=200))

    @property
    def centre(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)

    @property
    def bottom_centre(self) -> tuple[float, float]:
        """Where a person or vehicle stands: the point zones and lines are judged on."""
        return ((self.box[0] + self.box[2]) / 2, self.box[3])


@dataclass
class Tracker:
    """One camera's tracker. :meth:`update` takes the detections of one analysed frame and returns the
    confirmed tracks seen in it."""

    fps: float
    settings: TrackerSettings = field(default_factory=TrackerSettings)
    tracks: list[Track] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)  # confirmed tracks that ended at the last update
    _next_id: int = 1
    _last_us: int | None = None  # the last update's time: prediction spans the time since, in analysis periods

    def update(
        self,
        detections: list[Detection],
        at_us: int,
        frame: npt.NDArray[np.uint8] | None = None,
        looked: tuple[float, float, float, float] | None = None,
    ) -> list[Track]:
        """``frame`` (BGR, the detections' pixels) lets colour tell apart people whose boxes overlap. ``looked``
        (x1, y1, x2, y2): the part of the frame the detector was given; a track whose predicted centre lies
        outside it (but inside the picture) was not looked for, so it is not counted as missed."""
        s = self.settings
        steps = 1.0 if self._last_us is None else min(10.0, max(0.1, (at_us - self._last_us) * self.fps / 1e6))
        self._last_us = at_us
        whole = (
            (0.0, 0.0, float(frame.shape[1]), float(frame.shape[0])) if frame is not None else (-1e9, -1e9, 1e9, 1e9)
        )
        for track in self.tracks:
            assert track._filter is not None
            track._filter.predict(steps)
        looks: dict[int, npt.NDArray[np.float32]] = {}
        if frame is not None:
            looks = {id(d): look for d in detections if (look := _look(frame, d.box)) is not None}
        high = [d for d in detections if d.score >= s.high_score]
        low = [d for d in detections if d.score < s.high_score]
        seen: list[Track] = []
        waiting, new = self._associate(self.tracks, high, at_us, seen, looks)
        waiting, _ = self._associate(waiting, low, at_us, seen, looks)  # weak detections only continue tracks
        for track in waiting:
            assert track._filter is not None
            if looked is None or _centre_in(track._filter.box, looked) or not _centre_in(track._filter.box, whole):
                track.missed += 1
        self.tracks += [self._start(det, at_us, looks.get(id(det))) for det in new]
        max_missed = max(1, round(s.max_missed_s * self.fps))
        self.ended = [t.track_id for t in self.tracks if t.missed > max_missed and t.confirmed]
        self.tracks = [t for t in self.tracks if t.missed <= max_missed]
        return [t for t in seen if t.confirmed]

    def _associate(
        self,
        tracks: list[Track],
        dets: list[Detection],
        at_us: int,
        seen: list[Track],
        looks: dict[int, npt.NDArray[np.float32]],
    ) -> tuple[list[Track], list[Detection]]:
        """Match and update; return the tracks and the detections left unmatched."""
        pairs, left = self._match(tracks, dets, looks)
        for i, j in pairs.items():
            self._hit(tracks[i], dets[j], at_us, looks.get(id(dets[j])))
            seen.append(tracks[i])
        return [t for i, t in enumerate(tracks) if i not in pairs], [dets[j] for j in left]

    def _match(
        self, tracks: list[Track], dets: list[Detection], looks: dict[int, npt.NDArray[np.float32]]
    ) -> tuple[dict[int, int], list[int]]:
        """Optimal matching of same-label pairs close enough, by (1 - distance-IoU) plus the colour mismatch:
        {track index: detection index}, and the unmatched detections."""
        if not tracks or not dets:
            return {}, list(range(len(dets)))
        predicted = np.array([t._filter.box for t in tracks if t._filter is not None])
        boxes = np.array([d.box for d in dets])
        near = diou_matrix(predicted, boxes)
        labels_differ = np.array([[t.label != d.label for d in dets] for t in tracks])
        near[labels_differ] = -1.0
        cost = 1.0 - near
        for i, track in enumerate(tracks):
            for j, det in enumerate(dets):
                look = looks.get(id(det))
                if track._look is not None and look is not None and near[i, j] >= self.settings.match_diou:
                    cost[i, j] += self.settings.appearance_weight * _look_distance(track._look, look)
        rows, cols = linear_sum_assignment(cost)
        pairs = {int(r): int(c) for r, c in zip(rows, cols, strict=True) if near[r, c] >= self.settings.match_diou}
        used = set(pairs.values())
        return pairs, [j for j in range(len(dets)) if j not in used]

    def _start(self, det: Detection, at_us: int, look: npt.NDArray[np.float32] | None) -> Track:
        track = Track(self._next_id, det.label, at_us, at_us, det.score, box=det.box, _filter=_Kalman(det.box))
        track._look = look
        track.confirmed = self.settings.min_hits <= 1
        track._centres.append((at_us, *track.centre))
        self._next_id += 1
        return track

    def _hit(self, track: Track, det: Detection, at_us: int, look: npt.NDArray[np.float32] | None) -> None:
        assert track._filter is not None
        track._filter.update(det.box)
        if look is not None:
            track._look = look if track._look is None else (0.8 * track._look + 0.2 * look).astype(np.float32)
        track.box, track.last_us, track.missed = det.box, at_us, 0
        track.hits += 1
        track.best_score = max(track.best_score, det.score)
        track.confirmed = track.confirmed or track.hits >= self.settings.min_hits
        track._centres.append((at_us, *track.centre))
        track.stationary = self._is_stationary(track, at_us)

    def _is_stationary(self, track: Track, at_us: int) -> bool:
        s = self.settings
        window_us = int(s.stationary_s * 1e6)
        if at_us - track.first_us < window_us:
            return False
        recent = [(x, y) for t, x, y in track._centres if at_us - t <= window_us]
        xs, ys = [x for x, _ in recent], [y for _, y in recent]
        size = max(track.box[2] - track.box[0], track.box[3] - track.box[1], 1.0)
        return max(max(xs) - min(xs), max(ys) - min(ys)) < s.stationary_fraction * size


def _centre_in(box: Box, area: tuple[float, float, float, float]) -> bool:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return area[0] <= cx < area[2] and area[1] <= cy < area[3]


def _look(frame: npt.NDArray[np.uint8], box: Box) -> npt.NDArray[np.float32] | None:
    """Hue-saturation histogram of the middle of the box (less background than the whole box)."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    left, right = int(max(0, x1 + 0.2 * w)), int(min(frame.shape[1], x2 - 0.2 * w))
    top, bottom = int(max(0, y1 + 0.1 * h)), int(min(frame.shape[0], y2 - 0.3 * h))
    if right - left < 2 or bottom - top < 2:
        return None
    hsv = cv2.cvtColor(np.ascontiguousarray(frame[top:bottom, left:right]), cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1], None, [16, 8], [0, 180, 0, 256]).ravel()
    return np.asarray(hist / max(float(hist.sum()), 1e-9), np.float32)


def _look_distance(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    """Hellinger distance of two normalised histograms: 0 the same, 1 nothing in common."""
    return float(np.sqrt(max(0.0, 1.0 - float(np.sum(np.sqrt(a * b))))))


def _to_xywh(box: Box) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    return ((x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, 1.0), max(y2 - y1, 1.0))


def iou_matrix(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """IoU of every box in ``a`` (N x 4) with every box in ``b`` (M x 4)."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def diou_matrix(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Distance-IoU (Zheng et al., 2020): IoU less the squared centre distance over the squared diagonal of the
    box enclosing both. Unlike IoU it still ranks boxes that no longer overlap (an object that moved far between
    two detections, when the detector is loaded and answers less often): from -1 to 1."""
    iou = iou_matrix(a, b)
    ca = (a[:, None, :2] + a[:, None, 2:]) / 2
    cb = (b[None, :, :2] + b[None, :, 2:]) / 2
    centre = np.sum((ca - cb) ** 2, axis=2)
    x1 = np.minimum(a[:, None, 0], b[None, :, 0])
    y1 = np.minimum(a[:, None, 1], b[None, :, 1])
    x2 = np.maximum(a[:, None, 2], b[None, :, 2])
    y2 = np.maximum(a[:, None, 3], b[None, :, 3])
    diagonal = (x2 - x1) ** 2 + (y2 - y1) ** 2
    return np.asarray(iou - centre / np.maximum(diagonal, 1e-9), np.float64)
