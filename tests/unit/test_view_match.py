"""The view match of a replaced camera: a known shift, rotation and zoom of a real picture (and of a drawn one, when
the real footage is absent) is measured back; the same view is restored; another scene is no match; the camera's
shapes are moved by the measured transform."""

import av
import cv2
import numpy as np
import pytest

from support.media import SHARED_DATA, requires_shared_data
from vigil.analysis.view_match import match_views
from vigil.domain.view_match import ViewMatch, moved, moved_shapes


def jpeg(picture: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def first_frame(path) -> np.ndarray:
    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="bgr24")


def drawn_scene(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picture = np.full((360, 640, 3), 90, np.uint8)
    for _ in range(160):
        x, y = int(rng.integers(0, 640)), int(rng.integers(0, 360))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.rectangle(picture, (x, y), (x + int(rng.integers(8, 60)), y + int(rng.integers(8, 40))), colour, -1)
    return cv2.GaussianBlur(picture, (3, 3), 0)


def turned(picture: np.ndarray, dx: float, dy: float, degrees: float, zoom: float) -> np.ndarray:
    h, w = picture.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, zoom)
    m[0, 2] += dx * w
    m[1, 2] += dy * h
    return cv2.warpAffine(picture, m, (w, h))


def check_measured(scene: np.ndarray) -> None:
    new = turned(scene, 0.06, -0.03, 3.0, 1.08)
    m = match_views(jpeg(scene), jpeg(new))
    assert m.matched and m.verdict == "adjust", m
    assert abs(m.shift_x - 0.06) < 0.005 and abs(m.shift_y + 0.03) < 0.005
    assert abs(m.rotation_deg + 3.0) < 0.3 and abs(m.zoom - 1.08) < 0.01
    assert 0.75 < m.overlap < 0.95
    assert match_views(jpeg(scene), jpeg(scene)).verdict == "restored"
    # the old view's centre goes where the scene's centre went
    [[x, y]] = moved([[0.5, 0.5]], m.matrix)
    assert abs(x - 0.56) < 0.005 and abs(y - 0.47) < 0.005


@requires_shared_data
@pytest.mark.shared_data
def test_a_known_movement_of_a_real_view_is_measured_back() -> None:
    check_measured(first_frame(SHARED_DATA / "tud-campus" / "TUD-Campus.mp4"))
    other = first_frame(SHARED_DATA / "intel-samples" / "car-detection.mp4")
    m = match_views(jpeg(first_frame(SHARED_DATA / "tud-campus" / "TUD-Campus.mp4")), jpeg(other))
    assert m.verdict == "no_match" and "another scene" in m.reason


def test_a_known_movement_of_a_drawn_view_is_measured_back() -> None:
    check_measured(drawn_scene())
    assert match_views(jpeg(drawn_scene(1)), jpeg(drawn_scene(2))).verdict == "no_match"
    black = np.zeros((360, 640, 3), np.uint8)
    assert "too little detail" in match_views(jpeg(drawn_scene()), jpeg(black)).reason
    assert not match_views(b"not a jpeg", jpeg(black)).matched


def test_shapes_follow_the_transform_and_stay_in_the_picture() -> None:
    shift = ViewMatch(True, matrix=((1.0, 0.0, 0.1), (0.0, 1.0, 0.0)))
    camera = {
        "privacy_masks": [[[0.0, 0.0], [0.5, 0.0], [0.5, 0.5]]],
        "analysis": {"zones": [{"name": "Door", "points": [[0.8, 0.1], [0.95, 0.1], [0.95, 0.4]]}],
                     "lines": [{"name": "Gate", "points": [[0.1, 0.5], [0.6, 0.5]]}]},
    }  # fmt: skip
    out = moved_shapes(camera, shift.matrix)
    assert out["privacy_masks"] == [[[0.1, 0.0], [0.6, 0.0], [0.6, 0.5]]]
    assert out["zones"][0]["points"] == [[0.9, 0.1], [1.0, 0.1], [1.0, 0.4]] and out["zones"][0]["name"] == "Door"
    assert out["lines"][0]["points"] == [[0.2, 0.5], [0.7, 0.5]] and "motion_mask" not in out
