"""Privacy masks in the configuration (checked by the domain geometry), the view_unmasked permission, which masks a
person gets, redaction options, and masks filled into real decoded pictures and JPEGs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from support.privacy import MASK, is_masked, jpeg_picture, outside_untouched, shows_footage
from vigil.config import parse_config
from vigil.domain.access import Action, Grant, Principal, Role, parse_actions
from vigil.domain.errors import ConfigError, InvalidRequest
from vigil.domain.evidence import EvidenceRequest, check_request
from vigil.domain.privacy import PictureTreatment, as_masks, mask_version, masks_for, parse_redaction
from vigil.media.masking import MaskPainter, mask_jpeg
from vigil.media.synthetic import make_synthetic_clip, synthetic_frame


def camera(masks: object) -> dict:
    return {
        "cameras": [
            {"id": "yard", "name": "Yard", "streams": {"main": {"url": "rtsp://cam/s"}}, "privacy_masks": masks}
        ]
    }


def error(masks: object) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(camera(masks), "vigil.yaml")
    return info.value.message


def test_privacy_masks_are_read_as_polygons_of_fractions() -> None:
    cam = parse_config(camera([MASK]), "vigil.yaml").cameras[0]
    assert cam.masks() == (((0.05, 0.05), (0.45, 0.05), (0.45, 0.3), (0.05, 0.3)),)
    assert parse_config(camera([]), "vigil.yaml").cameras[0].masks() == ()


@pytest.mark.parametrize(
    ("masks", "expected"),
    [
        ([[[0, 0], [0.5, 0]]], "cameras[0]: privacy_masks polygon 1: a polygon needs at least 3 points, it has 2"),
        ([MASK, [[0, 0], [1.5, 0], [0, 1]]], "privacy_masks polygon 2: point 2 (1.5, 0) is outside the frame"),
        ([[[0, 0], [1, 1], [1, 0], [0, 1]]], "privacy_masks polygon 1: the polygon crosses itself"),
        ([[[0, 0], [0.5, 0.5], [1, 1]]], "privacy_masks polygon 1: the polygon has no area"),
        ([[[0, 0], [1, "a"], [0, 1]]], "cameras[0].privacy_masks[0][1][1]: Input should be a valid number"),
    ],
)
def test_bad_privacy_masks_are_refused_with_the_key_and_the_reason(masks: object, expected: str) -> None:
    assert expected in error(masks)


def test_view_unmasked_is_an_admins_and_anyone_elses_only_through_a_grant() -> None:
    assert Principal("root", Role.ADMIN).may_on(Action.VIEW_UNMASKED, "gate", "north")
    operator = Principal("op", Role.OPERATOR, (Grant(camera_id="gate"),))
    assert not operator.may_on(Action.VIEW_UNMASKED, "gate", "north")
    granted = Principal("op", Role.OPERATOR, (Grant(camera_id="gate", actions=parse_actions(["view_unmasked"])),))
    assert granted.may_on(Action.VIEW_UNMASKED, "gate", "north")
    assert not granted.may_on(Action.VIEW_UNMASKED, "dock", "north"), "on the grant's cameras only"
    masks = as_masks([MASK])
    assert masks_for(operator, "gate", "north", masks) == masks
    assert masks_for(granted, "gate", "north", masks) == ()
    assert masks_for(operator, "gate", "north", ()) == ()


def test_a_mask_version_changes_with_the_polygons_and_redaction_options_are_checked() -> None:
    one, other = as_masks([MASK]), as_masks([[[0, 0], [0.5, 0], [0, 0.5]]])
    assert mask_version(one) != mask_version(other) and len(mask_version(one)) == 16 and mask_version(()) == ""
    assert parse_redaction(["faces,plates", "people"]) == {"faces", "plates", "people"}
    with pytest.raises(InvalidRequest, match="unknown kind 'eyes'"):
        parse_redaction(["faces,eyes"])
    base = EvidenceRequest(("gate",), 0, 10, "case", "PC Smith", "olga")
    with pytest.raises(InvalidRequest, match="unknown kind 'cars'"):
        check_request(replace(base, redact=frozenset({"cars"})), 100)
    with pytest.raises(InvalidRequest, match="redact style"):
        check_request(replace(base, redact_style="paint"), 100)
    assert PictureTreatment().empty and not PictureTreatment(masks=one).empty


def test_a_decoded_picture_gets_its_masks_filled_and_the_rest_untouched(tmp_path: Path) -> None:
    clip = make_synthetic_clip(tmp_path / "clip.mp4", duration_s=0.2)
    with av.open(str(clip)) as container:
        frame = next(container.decode(video=0))
    original = frame.to_ndarray(format="bgr24")
    painted = MaskPainter(as_masks([MASK])).frame(frame)
    picture = painted.to_ndarray(format="bgr24")
    assert is_masked(picture) and outside_untouched(picture) and shows_footage(original)
    assert np.array_equal(frame.to_ndarray(format="bgr24"), original), "the decoder's own picture is left alone"
    height, width = picture.shape[:2]
    assert np.array_equal(picture[height // 2 :, width // 2 :], original[height // 2 :, width // 2 :])


def test_a_jpeg_gets_its_masks_filled() -> None:
    rgb = synthetic_frame(3, 640, 360)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    masked = jpeg_picture(mask_jpeg(data.tobytes(), as_masks([MASK])))
    assert is_masked(masked) and outside_untouched(masked)
    assert mask_jpeg(data.tobytes(), ()) == data.tobytes()
