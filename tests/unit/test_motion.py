import numpy as np
import pytest

from vigil.analysis.motion import MotionDetector, MotionSettings

H, W = 120, 160


def scene(rng: np.random.Generator, brightness: float = 0.0) -> np.ndarray:
    """A textured still picture with sensor noise."""
    base = np.tile(np.linspace(40, 200, W, dtype=np.float32), (H, 1))
    base[30:90, 20:60] = 90
    noisy = base + brightness + rng.normal(0, 2.0, (H, W))
    return np.clip(noisy, 0, 255).astype(np.uint8)


def with_square(frame: np.ndarray, x: int, y: int, size: int = 16, value: int = 250) -> np.ndarray:
    out = frame.copy()
    out[y : y + size, x : x + size] = value
    return out


def warmed(detector: MotionDetector, rng: np.random.Generator, frames: int = 30) -> None:
    for _ in range(frames):
        detector.apply(scene(rng))


def test_a_still_noisy_picture_has_no_motion():
    rng = np.random.default_rng(1)
    det = MotionDetector(fps=5)
    results = [det.apply(scene(rng)) for _ in range(60)]
    assert all(r.fraction == 0.0 and not r.regions for r in results[5:])


def test_a_moving_object_is_found_where_it_is():
    rng = np.random.default_rng(2)
    det = MotionDetector(fps=5)
    warmed(det, rng)
    for step in range(5):
        x, y = 70 + 6 * step, 50
        result = det.apply(with_square(scene(rng), x, y))
        assert len(result.regions) == 1
        region = result.regions[0]
        assert abs(region.x - x) <= 2 and abs(region.y - y) <= 2
        assert abs(region.width - 16) <= 3 and abs(region.height - 16) <= 3
        assert result.mask[y + 8, x + 8] == 255 and result.mask[5, 5] == 0


def test_a_sudden_global_change_is_a_recalibration_not_motion():
    rng = np.random.default_rng(3)
    det = MotionDetector(fps=5)
    warmed(det, rng)
    flipped = 255 - scene(rng)  # lights off / IR switch: the whole picture changes at once
    first = det.apply(flipped)
    assert first.recalibrated and first.fraction == 0.0
    later = [det.apply(255 - scene(rng)) for _ in range(10)]
    assert all(r.fraction == 0.0 for r in later)


def test_auto_exposure_and_slow_light_changes_are_not_motion():
    rng = np.random.default_rng(4)
    det = MotionDetector(fps=5)
    warmed(det, rng)
    assert det.apply(scene(rng, brightness=25)).fraction == 0.0  # a uniform gain step (auto-exposure)
    ramp = [det.apply(scene(rng, brightness=25 - k)) for k in range(50)]  # dusk
    assert max(r.fraction for r in ramp) == 0.0


def test_an_object_that_stops_becomes_background():
    rng = np.random.default_rng(5)
    det = MotionDetector(fps=5, settings=MotionSettings(absorb_s=4.0))
    warmed(det, rng)
    parked = [det.apply(with_square(scene(rng), 100, 40)) for _ in range(60)]
    assert parked[0].regions and not parked[-1].regions


def test_the_ignore_mask_hides_motion_inside_it():
    rng = np.random.default_rng(6)
    ignore = np.zeros((H, W), np.uint8)
    ignore[:, 80:] = 255
    det = MotionDetector(fps=5, ignore=ignore)
    warmed(det, rng)
    assert not det.apply(with_square(scene(rng), 120, 40)).regions
    assert det.apply(with_square(scene(rng), 30, 95)).regions


def test_a_mask_of_the_wrong_size_is_refused():
    det = MotionDetector(fps=5, ignore=np.zeros((10, 10), np.uint8))
    det.apply(np.zeros((H, W), np.uint8))
    with pytest.raises(ValueError, match="motion mask"):
        det.apply(np.zeros((H, W), np.uint8))


def test_a_resolution_change_restarts_the_model():
    rng = np.random.default_rng(7)
    det = MotionDetector(fps=5)
    warmed(det, rng)
    result = det.apply(np.zeros((60, 80), np.uint8))
    assert result.recalibrated and result.mask.shape == (60, 80)
