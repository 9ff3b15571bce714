"""Picture faults on synthetic frames: each fault raised with its onset, cleared on recovery, and ordinary
changes (a passing object, noise, a quiet scene) raising nothing."""

import cv2
import numpy as np

from vigil.analysis.faults import FaultKind, PictureFaults

FPS = 5.0
STEP_US = int(1e6 / FPS)
H, W = 180, 320


def world(seed: int = 0) -> np.ndarray:
    """A large scene the camera looks into (so it can also be turned): walls, windows, signs (sharp-edged
    shapes of many greys) over a faint texture."""
    rng = np.random.default_rng(seed)
    big = np.full((H * 2, W * 2), 120, np.float32)
    for _ in range(160):
        x, y = int(rng.integers(0, W * 2)), int(rng.integers(0, H * 2))
        w, h = int(rng.integers(6, 60)), int(rng.integers(6, 60))
        big[y : y + h, x : x + w] = rng.integers(30, 220)
    big += cv2.GaussianBlur(rng.normal(0, 6, big.shape).astype(np.float32), (0, 0), 1)
    return np.clip(big, 0, 255).astype(np.uint8)


def view(scene: np.ndarray, x: int = 0, y: int = 0, noise: float = 1.5, rng=None) -> np.ndarray:
    rng = rng or np.random.default_rng()
    crop = scene[y : y + H, x : x + W].astype(np.float32)
    return np.clip(crop + rng.normal(0, noise, crop.shape), 0, 255).astype(np.uint8)


class Feed:
    def __init__(self) -> None:
        self.checker = PictureFaults(fps=FPS)
        self.t = 0
        self.changes = []

    def frames(self, frames) -> None:
        for frame in frames:
            self.changes += self.checker.apply(frame, self.t)
            self.t += STEP_US

    def raised(self):
        return [(c.kind, c.onset_us) for c in self.changes if c.raised]

    def cleared(self):
        return [c.kind for c in self.changes if not c.raised]


def healthy(feed: Feed, scene: np.ndarray, seconds: float = 8.0, rng=None) -> None:
    rng = rng or np.random.default_rng(1)
    feed.frames(view(scene, 10, 10, rng=rng) for _ in range(int(seconds * FPS)))


def test_a_healthy_noisy_picture_raises_nothing():
    feed = Feed()
    healthy(feed, world(), seconds=30)
    assert feed.changes == []


def test_black_is_raised_within_a_second_with_its_onset_and_clears_when_the_picture_returns():
    feed, scene = Feed(), world()
    healthy(feed, scene)
    onset = feed.t
    feed.frames(np.full((H, W), 8, np.uint8) for _ in range(10))
    assert feed.raised() == [(FaultKind.BLACK, onset)]
    raised_at = next(c.at_us for c in feed.changes if c.raised)
    assert raised_at - onset <= 1_000_000
    healthy(feed, scene, seconds=4)
    assert feed.cleared() == [FaultKind.BLACK]


def test_a_washed_out_picture_is_overexposed():
    feed, scene = Feed(), world()
    healthy(feed, scene)
    feed.frames(np.full((H, W), 250, np.uint8) for _ in range(5))
    assert [k for k, _ in feed.raised()] == [FaultKind.OVEREXPOSED]


def test_repeated_frames_in_a_lively_scene_are_frozen():
    feed, scene = Feed(), world()
    healthy(feed, scene)
    stuck = view(scene, 10, 10)
    onset = feed.t + STEP_US  # the first repeat is the frame after the stuck one
    feed.frames([stuck] * 8)
    assert feed.raised() == [(FaultKind.FROZEN, onset)]


def test_a_quiet_scene_repeating_frames_is_not_frozen_at_once():
    feed, scene = Feed(), world()
    still = view(scene, 10, 10)
    feed.frames([still] * int(8 * FPS))  # a scene that never changes: a still room behind a quiet encoder
    assert feed.raised() == [] or feed.raised()[0][1] >= 8_000_000


def test_defocus_is_blurred():
    feed, scene = Feed(), world()
    healthy(feed, scene)
    rng = np.random.default_rng(3)
    soft = cv2.GaussianBlur(scene, (0, 0), 4)  # the optics blur; the sensor noise comes after
    feed.frames(view(soft, 10, 10, rng=rng) for _ in range(5))
    assert [k for k, _ in feed.raised()] == [FaultKind.BLURRED]


def test_a_sheet_over_the_lens_is_covered():
    feed, scene = Feed(), world()
    healthy(feed, scene)
    rng = np.random.default_rng(4)
    sheet = np.full((H, W), 200, np.float32)
    feed.frames(np.clip(sheet + rng.normal(0, 1.5, sheet.shape), 0, 255).astype(np.uint8) for _ in range(5))
    assert [k for k, _ in feed.raised()] == [FaultKind.COVERED]


def test_turning_the_camera_is_moved():
    feed, scene = Feed(), world()
    healthy(feed, scene)
    rng = np.random.default_rng(5)
    feed.frames(view(scene, 10 + 12 * k, 10 + 4 * k, rng=rng) for k in range(1, 12))
    assert [k for k, _ in feed.raised()][:1] == [FaultKind.MOVED]


def test_a_large_object_crossing_the_view_is_not_a_fault():
    feed, scene = Feed(), world()
    healthy(feed, scene)
    rng = np.random.default_rng(6)
    lorry = np.full((120, 140), 235, np.uint8)
    for k in range(15):
        frame = view(scene, 10, 10, rng=rng)
        x = -140 + 30 * k
        left, right = max(x, 0), min(x + 140, W)
        if right > left:
            frame[30:150, left:right] = lorry[:, left - x : right - x]
        feed.frames([frame])
    healthy(feed, scene, seconds=4)
    assert feed.raised() == []
