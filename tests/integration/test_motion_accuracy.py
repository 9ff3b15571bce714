"""Motion against CDnet 2014 highway ground truth (a slice; the full figures come from bench/motion.py)."""

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from support.media import SHARED_DATA, requires_shared_data
from vigil.analysis.motion import MotionDetector

HIGHWAY = SHARED_DATA / "cdnet2014-highway"
FIRST, LAST = 470, 700  # the scored range starts at 470 (temporalROI.txt)

pytestmark = [requires_shared_data, pytest.mark.shared_data]


def f_measure(motion_of: Callable[[Path], np.ndarray]) -> float:
    """Feed frames 1..LAST in order; score FIRST..LAST per pixel inside the ROI (85/170 ignored)."""
    roi = cv2.imread(str(HIGHWAY / "ROI.bmp"), cv2.IMREAD_GRAYSCALE) > 0
    tp = fp = fn = 0
    for n in range(1, LAST + 1):
        motion = motion_of(HIGHWAY / "input" / f"in{n:06d}.jpg")
        if n < FIRST:
            continue
        truth = cv2.imread(str(HIGHWAY / "groundtruth" / f"gt{n:06d}.png"), cv2.IMREAD_GRAYSCALE)
        valid, positive = roi & (truth != 85) & (truth != 170), truth == 255
        tp += np.count_nonzero(motion & positive & valid)
        fp += np.count_nonzero(motion & ~positive & valid)
        fn += np.count_nonzero(~motion & positive & valid)
    return 2 * tp / (2 * tp + fp + fn)


def test_motion_on_real_motorway_footage_beats_opencv_mog2():
    detector = MotionDetector(fps=10)
    ours = f_measure(lambda p: detector.apply(cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)).mask == 255)
    mog2 = cv2.createBackgroundSubtractorMOG2()
    theirs = f_measure(lambda p: mog2.apply(cv2.imread(str(p))) == 255)
    assert ours > 0.88, f"F-measure {ours:.3f} on highway {FIRST}-{LAST}"
    assert ours > theirs, f"ours {ours:.3f} vs MOG2 {theirs:.3f}"
