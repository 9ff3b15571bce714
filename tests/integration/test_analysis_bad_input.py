"""Bad input to analysis: a stream whose resolution (and aspect) changes mid-stream keeps being analysed and
detected in; a detector model that is missing or of the wrong shape is refused at start-up with a clear event
while the camera keeps recording and motion keeps being reported."""

from __future__ import annotations

import logging
import subprocess
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from support.media import SHARED_DATA, requires_shared_data
from support.node import node_config, wait_for
from vigil.domain.reports import AnalysisEvent
from vigil.media.analysis_worker import StreamAnalyser
from vigil.media.detector_link import DetectorClient
from vigil.ports import SystemClock
from vigil.runtime import Vigil
from vigil.wiring import camera_analysis_for

pytestmark = [requires_shared_data, pytest.mark.shared_data]
PETS = SHARED_DATA / "pets09-s2l1" / "vtest.avi"


@pytest.fixture(scope="module")
def changing_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """PETS as H.264 in MPEG-TS: 5 s at 768x432 (16:9), then 5 s at 384x288 (4:3), one stream of bytes."""
    folder = tmp_path_factory.mktemp("resolution-change")
    parts = []
    for name, start, vf in (("a", 0, "crop=768:432:0:72"), ("b", 5, "scale=384:288")):
        out = folder / f"{name}.ts"
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-ss", str(start), "-t", "5", "-i", str(PETS)]
        cmd += ["-vf", vf, "-c:v", "libx264", "-g", "10", "-an", "-f", "mpegts", str(out)]
        subprocess.run(cmd, check=True)
        parts.append(out.read_bytes())
    clip = folder / "changing.ts"
    clip.write_bytes(b"".join(parts))
    return clip


class Watching:
    """The shipped analyser, noting the shapes it was fed and when it got detector replies."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.shapes, self.replies = inner, [], []

    def feed(self, gray: Any, at_us: int, picture: Any = None) -> list[Any]:
        before = self.inner.detections
        out = self.inner.feed(gray, at_us, picture)
        self.shapes.append(gray.shape)
        if self.inner.detections > before:
            self.replies.append(gray.shape)
        return list(out)

    def collect(self, at_us: int) -> list[Any]:
        before = self.inner.detections
        out = self.inner.collect(at_us)
        if self.inner.detections > before:
            self.replies.append(self.shapes[-1])
        return list(out)

    def stop(self, at_us: int) -> list[Any]:
        return list(self.inner.stop(at_us))


def test_a_resolution_change_mid_stream_is_followed_by_analysis_and_detection(changing_clip, tmp_path, caplog):
    config, _ = node_config(tmp_path, {"x": f"file://{changing_clip}"}, analysis={"enabled": True})
    vigil = Vigil(config, tmp_path)  # only for its detector process
    vigil.detector.start()
    (job,) = vigil.jobs
    messages: list[Any] = []
    analyser = Watching(camera_analysis_for(job, DetectorClient(job.detector_address, job.detector_key, "x")))
    stop = threading.Event()
    runner = StreamAnalyser(job, analyser, messages.append, SystemClock())
    thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    caplog.set_level(logging.WARNING, logger="vigil.media.analysis_worker")
    thread.start()
    try:
        wait_for(lambda: len({s for s in analyser.replies}) >= 2, timeout=40, what="detections at both sizes")
    finally:
        stop.set()
        thread.join(10)
        vigil.detector.stop()
    assert (180, 320) in analyser.shapes and (240, 320) in analyser.shapes
    assert not [r for r in caplog.records if "analysis stream failed" in r.getMessage()]
    objects = [m for m in messages if isinstance(m, AnalysisEvent) and m.type == "object"]
    assert objects, "people are found"


def write_wrong_model(path: Path) -> Path:
    """A real ONNX file whose output has the wrong shape for a detector ([1, 7])."""
    import onnx
    from onnx import TensorProto, helper

    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 7])
    const = helper.make_tensor("const", TensorProto.FLOAT, [1, 7], np.zeros(7, np.float32))
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["const", "nothing"], ["output0"]),
    ]
    graph = helper.make_graph(nodes, "wrong", [image], [out], initializer=[const, zero])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("model", ["missing.onnx", "wrong.onnx"])
def test_a_bad_detector_model_turns_detection_off_with_a_clear_event_and_recording_goes_on(
    model, tmp_path, black_tail_clip
):
    if model == "wrong.onnx":
        write_wrong_model(tmp_path / model)
    detector = {"model": model, "kind": "yolo", "input_width": 64, "input_height": 64}
    config, _ = node_config(
        tmp_path, {"door": f"file://{black_tail_clip}"}, analysis={"enabled": True, "detector": detector}
    )
    vigil = Vigil(config, tmp_path)
    assert vigil.detector_job is None and model in vigil.detector_problem
    vigil.start()
    try:
        off = wait_for(lambda: vigil.catalog.events(types=["analysis"]), what="the detection-off event")
        assert off[0].data["key"] == "detection:off" and model in off[0].description
        assert "Recording, motion and camera faults go on" in off[0].description
        wait_for(lambda: len(vigil.catalog.segments("door", "main")) >= 2, timeout=30, what="recording")
        wait_for(lambda: vigil.catalog.events(camera_id="door", types=["motion"]), timeout=30, what="motion")
        assert vigil.detector.pids == []
    finally:
        vigil.stop()
