"""The detector: bad model files refused with a clear error; YOLO outputs decoded (real ONNX files built here,
run by ONNX Runtime); the bundled model loads and finds nothing on a blank picture."""

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from vigil.analysis.detector import COCO80, DetectorSettings, OnnxDetector
from vigil.domain.errors import ConfigError

SIZE = 64


def constant_model(path: Path, output: np.ndarray, input_shape=(1, 3, SIZE, SIZE)) -> Path:
    """An ONNX model whose single output is ``output`` whatever the image (plus 0 x the image mean)."""
    image = helper.make_tensor_value_info("images", TensorProto.FLOAT, list(input_shape))
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))
    const = helper.make_tensor("const", TensorProto.FLOAT, output.shape, output.astype(np.float32).ravel())
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["const", "nothing"], ["output0"]),
    ]
    graph = helper.make_graph(nodes, "constant", [image], [out], initializer=[const, zero])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def yolo_rows(n: int, width: int) -> np.ndarray:
    """Rows of background (all scores 0) with room for boxes."""
    return np.zeros((n, width), np.float32)


def test_a_yolo_v8_output_is_decoded_into_frame_pixels(tmp_path):
    rows = yolo_rows(20, 84)
    rows[3, :4] = [32, 16, 16, 8]  # centre (32, 16), 16 x 8 in the 64 x 64 input
    rows[3, 4 + COCO80.index("person")] = 0.9
    rows[7, :4] = [10, 50, 8, 8]
    rows[7, 4 + COCO80.index("dog")] = 0.95  # not a wanted label
    rows[9, :4] = [33, 16, 16, 8]  # a duplicate of the person: suppressed
    rows[9, 4 + COCO80.index("person")] = 0.6
    model = constant_model(tmp_path / "v8.onnx", rows.T[None])
    detector = OnnxDetector(DetectorSettings(model=model, kind="yolo"))
    found = detector.detect(np.zeros((128, 256, 3), np.uint8))  # twice as tall, four times as wide
    assert [(d.label, round(d.score, 2)) for d in found] == [("person", 0.9)]
    assert found[0].box == pytest.approx((96.0, 24.0, 160.0, 40.0))


def test_a_yolo_v5_output_multiplies_objectness(tmp_path):
    rows = yolo_rows(10, 85)
    rows[2, :5] = [20, 20, 10, 30, 0.5]
    rows[2, 5 + COCO80.index("car")] = 0.9  # 0.45 after objectness
    rows[4, :5] = [40, 40, 10, 10, 0.3]
    rows[4, 5 + COCO80.index("car")] = 0.9  # 0.27: under the minimum score
    detector = OnnxDetector(DetectorSettings(model=constant_model(tmp_path / "v5.onnx", rows[None]), kind="yolo"))
    found = detector.detect(np.zeros((SIZE, SIZE, 3), np.uint8))
    assert [(d.label, round(d.score, 2)) for d in found] == [("car", 0.45)]


def test_per_label_minimum_score_and_height(tmp_path):
    rows = yolo_rows(10, 84)
    rows[1, :4] = [20, 20, 10, 30]
    rows[1, 4 + COCO80.index("person")] = 0.5
    rows[2, :4] = [40, 40, 10, 4]  # a car 4 px tall
    rows[2, 4 + COCO80.index("car")] = 0.9
    model = constant_model(tmp_path / "m.onnx", rows.T[None])
    settings = DetectorSettings(
        model=model, kind="yolo", label_min_score={"person": 0.6}, label_min_height_px={"car": 5}
    )
    assert OnnxDetector(settings).detect(np.zeros((SIZE, SIZE, 3), np.uint8)) == []


def test_a_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        OnnxDetector(DetectorSettings(model=tmp_path / "absent.onnx"))


def test_a_file_that_is_not_a_model_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not a model")
    with pytest.raises(ConfigError, match="cannot load"):
        OnnxDetector(DetectorSettings(model=bad))


def test_a_model_of_the_wrong_shape_is_refused_with_what_was_expected(tmp_path):
    model = constant_model(tmp_path / "odd.onnx", np.zeros((1, 10, 7), np.float32))
    with pytest.raises(ConfigError, match=r"expected one output \[1, 84, N\]"):
        OnnxDetector(DetectorSettings(model=model, kind="yolo"))
    with pytest.raises(ConfigError, match="expected 6 outputs"):
        OnnxDetector(DetectorSettings(model=model, kind="nanodet"))


def test_a_wrong_input_layout_is_refused(tmp_path):
    model = constant_model(tmp_path / "hwc.onnx", np.zeros((1, 84, 5), np.float32), input_shape=(1, SIZE, SIZE, 3))
    with pytest.raises(ConfigError, match="input should be"):
        OnnxDetector(DetectorSettings(model=model, kind="yolo"))


def test_an_unknown_label_is_refused():
    with pytest.raises(ConfigError, match="no class unicorn"):
        OnnxDetector(DetectorSettings(labels=("person", "unicorn")))


def test_the_bundled_model_loads_and_sees_nothing_in_a_blank_picture():
    detector = OnnxDetector()
    assert detector.input_size == (416, 416)
    assert detector.detect(np.full((360, 640, 3), 128, np.uint8)) == []


def test_nanodet_input_sides_must_be_multiples_of_32():
    with pytest.raises(ConfigError, match="multiples of 32"):
        OnnxDetector(DetectorSettings(input_width=400))
