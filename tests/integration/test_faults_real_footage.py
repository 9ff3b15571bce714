"""Picture faults on real footage: the three real tampering clips raise the right fault within 1 s of its onset;
normal footage raises none. (The derived frozen/black/white clips and the other normal clips: bench/faults.py.)"""

from pathlib import Path

import av
import cv2
import pytest

from support.media import SHARED_DATA, requires_shared_data
from vigil.analysis.faults import FaultChange, PictureFaults

pytestmark = [requires_shared_data, pytest.mark.shared_data]
FPS = 5.0


def faults_in(path: Path) -> list[FaultChange]:
    checker, changes, next_s = PictureFaults(fps=FPS), [], 0.0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is None or frame.time + 1e-6 < next_s:
                continue
            next_s += 1 / FPS
            gray = frame.to_ndarray(format="gray")
            small = cv2.resize(gray, (320, round(gray.shape[0] * 320 / gray.shape[1])), interpolation=cv2.INTER_AREA)
            changes += checker.apply(small, round(frame.time * 1e6))
    return changes


@pytest.mark.parametrize(
    ("clip", "kind", "onset_s"),
    [("Occlusion.mp4", "covered", 2.00), ("Defocusing.mp4", "blurred", 0.90), ("Displacement.mp4", "moved", 2.80)],
)
def test_real_tampering_is_raised_within_a_second_of_its_onset(clip, kind, onset_s):
    raised = [c for c in faults_in(SHARED_DATA / "tampering" / clip) if c.raised]
    assert raised, f"{clip}: nothing raised"
    first = raised[0]
    assert first.kind.value == kind, f"{clip}: first fault {first.kind} ({first.detail})"
    assert 0 <= first.at_us / 1e6 - onset_s <= 1.0, f"{clip}: raised at {first.at_us / 1e6:.2f} s"
    assert first.onset_us <= first.at_us


@pytest.mark.parametrize("clip", ["tud-campus/TUD-Campus.mp4", "pets09-s2l1/vtest.avi"])
def test_normal_footage_raises_no_fault(clip):
    assert [c for c in faults_in(SHARED_DATA / clip) if c.raised] == []
