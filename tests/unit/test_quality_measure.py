"""The picture-quality figures on real footage (PETS09-S2L1, TUD-Campus) made worse the way lenses and lights fail:
a blur (dirt, defocus) lowers sharpness and keeps brightness; haze lowers contrast and sharpness; darkening lowers
brightness but hardly the sharpness (it is a ratio of scales); added sensor noise raises the noise; a yellowed dome
moves the colour cast; a passer-by in one of five pictures does not move the median; no picture is an error."""

import av
import cv2
import numpy as np
import pytest

from support.media import SHARED_DATA, requires_shared_data
from vigil.analysis.quality import measure_quality

pytestmark = requires_shared_data


def pictures(name: str, count: int = 5) -> list[np.ndarray]:
    with av.open(str(SHARED_DATA / name)) as container:
        decoded = zip(range(count * 20), container.decode(video=0), strict=False)
        frames = [f.to_ndarray(format="bgr24") for _, f in decoded]
    return frames[:: len(frames) // count][:count]


@pytest.fixture(scope="module", params=["pets09-s2l1/vtest.avi", "tud-campus/TUD-Campus.mp4"])
def scene(request) -> list[np.ndarray]:
    return pictures(request.param)


def test_each_way_of_failing_moves_its_own_figure(scene: list[np.ndarray]) -> None:
    base = measure_quality(scene)
    blurred = measure_quality([cv2.GaussianBlur(f, (0, 0), 1.5) for f in scene])
    hazy = measure_quality([cv2.addWeighted(f, 0.5, np.full_like(f, 205), 0.5, 0) for f in scene])
    dark = measure_quality([cv2.convertScaleAbs(f, alpha=0.4) for f in scene])
    rng = np.random.default_rng(1)
    noisy = measure_quality([np.clip(f + rng.normal(0, 8, f.shape), 0, 255).astype(np.uint8) for f in scene])
    yellow = measure_quality([np.clip(f * np.array([0.75, 1.0, 1.05]), 0, 255).astype(np.uint8) for f in scene])
    assert blurred.sharpness < 0.8 * base.sharpness
    assert abs(blurred.brightness - base.brightness) < 0.05 * base.brightness
    assert hazy.contrast < 0.6 * base.contrast
    assert dark.brightness < 0.5 * base.brightness and dark.sharpness > 0.85 * base.sharpness
    assert noisy.noise > 2 * base.noise
    assert yellow.cast > base.cast + 8


def test_one_odd_picture_does_not_move_the_median(scene: list[np.ndarray]) -> None:
    base = measure_quality(scene)
    odd = [*scene[:4], np.zeros_like(scene[4])]
    moved = measure_quality(odd)
    assert abs(moved.brightness - base.brightness) < 0.1 * base.brightness
    assert abs(moved.sharpness - base.sharpness) < 0.1 * base.sharpness


def test_no_picture_is_an_error() -> None:
    with pytest.raises(ValueError, match="no frame"):
        measure_quality([])
