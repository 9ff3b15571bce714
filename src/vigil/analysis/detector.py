"""Object detection with ONNX Runtime on the CPU: the bundled NanoDet-g (COCO-80) or a user's YOLO model.

``OnnxDetector.detect`` takes a BGR frame of any size and returns :class:`~vigil.analysis.tracking.Detection`
objects in that frame's pixels, for the configured labels only, above each label's minimum score and size, after
non-maximum suppression per label. The model is checked when it loads: a missing file, a file ONNX Runtime
cannot read, or outputs of an unexpected shape raise :class:`~vigil.domain.errors.ConfigError` naming the file
and what was expected, so a camera's analysis can refuse to start while its recording goes on.

- **nanodet** (the bundled ``models/nanodet-g.onnx``, see ``models/README.md``): input ``[1,3,H,W]`` BGR,
  ``(pixel - mean) / std``, H and W multiples of 32; per stride 8/16/32 a ``[1,N,80]`` score map (sigmoid
  already applied) and a ``[1,N,44]`` map of 4 x 11-bin distance distributions (left, top, right, bottom).
- **yolo** (YOLOv5/v8-style exports): input ``[1,3,H,W]`` RGB scaled to 0..1; one output ``[1,4+C,N]``
  (v8: centre x, centre y, width, height, C class scores) or ``[1,N,5+C]`` (v5: the same with an objectness
  that multiplies the class scores). Class names are COCO-80 unless given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from vigil.analysis.tracking import Detection
from vigil.domain.errors import ConfigError

BUNDLED_MODEL = Path(__file__).resolve().parent / "models" / "nanodet-g.onnx"
COCO80 = [
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic_light",
    "fire_hydrant",
    "stop_sign",
    "parking_meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports_ball",
    "kite",
    "baseball_bat",
    "baseball_glove",
    "skateboard",
    "surfboard",
    "tennis_racket",
    "bottle",
    "wine_glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot_dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted_plant",
    "bed",
    "dining_table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell_phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy_bear",
    "hair_drier",
    "toothbrush",
]
DEFAULT_LABELS = ("person", "bicycle", "car", "motorcycle", "bus", "truck")
NANODET_MEAN = np.array([103.53, 116.28, 123.675], np.float32)
NANODET_STD = np.array([57.375, 57.12, 58.395], np.float32)
NANODET_STRIDES = (8, 16, 32)
NANODET_BINS = 11

Image = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class DetectorSettings:
    model: Path | None = None  # None: the bundled NanoDet-g
    kind: Literal["nanodet", "yolo"] = "nanodet"
    input_width: int = 416
    input_height: int = 416
    labels: tuple[str, ...] = DEFAULT_LABELS
    min_score: float = 0.35
    label_min_score: Mapping[str, float] = field(default_factory=dict)
    label_min_height_px: Mapping[str, int] = field(default_factory=dict)  # in frame pixels
    nms_iou: float = 0.5
    threads: int = 2
    class_names: tuple[str, ...] = ()  # a user model's classes, in output order (default COCO-80)


class Detector(Protocol):
    name: str
    input_size: tuple[int, int]

    def detect(self, bgr: Image, min_score: float | None = None) -> list[Detection]: ...

    def min_score(self, label: str) -> float: ...


class OnnxDetector:
    """One model in one ONNX Runtime session. Not thread-safe: one per detector process."""

    def __init__(self, settings: DetectorSettings | None = None) -> None:
        self.settings = s = settings or DetectorSettings()
        path = s.model or BUNDLED_MODEL
        self.name = f"{s.kind}:{path.name}"
        self._session = _open_session(path, s.threads)
        self._input = self._session.get_inputs()[0].name
        self.input_size = self._check_input(path)
        self._names = s.class_names or self._model_classes() or COCO80
        unknown = [label for label in s.labels if label not in self._names]
        if unknown:
            raise ConfigError(f"detector model {path}: it has no class {', '.join(unknown)}")
        self._wanted = np.array([self._names.index(label) for label in s.labels])
        self._check_outputs(path)
        self._centres: dict[int, Floats] = {}

    def min_score(self, label: str) -> float:
        return float(self.settings.label_min_score.get(label, self.settings.min_score))

    def detect(self, bgr: Image, min_score: float | None = None) -> list[Detection]:
        """Detections in ``bgr``'s pixels. ``min_score`` overrides every label's minimum (for benchmarks)."""
        height, width = bgr.shape[:2]
        in_w, in_h = self.input_size
        resized = np.asarray(cv2.resize(bgr, (in_w, in_h), interpolation=cv2.INTER_LINEAR), np.uint8)
        boxes, scores, classes = self._run(resized)
        floor = min_score if min_score is not None else min(self.min_score(lb) for lb in self.settings.labels)
        keep = scores >= floor
        boxes, scores, classes = boxes[keep], scores[keep], classes[keep]
        boxes *= np.array([width / in_w, height / in_h, width / in_w, height / in_h], np.float32)
        return self._select(boxes, scores, classes, min_score)

    # --- model specifics ----------------------------------------------------------------------------
    def _run(self, resized: Image) -> tuple[Floats, Floats, npt.NDArray[np.intp]]:
        """(boxes x1 y1 x2 y2 in input pixels, best score among the wanted labels, index into labels)."""
        if self.settings.kind == "nanodet":
            blob = ((resized.astype(np.float32) - NANODET_MEAN) / NANODET_STD).transpose(2, 0, 1)[None]
            outputs = self._session.run(None, {self._input: np.ascontiguousarray(blob)})
            return self._decode_nanodet(outputs)
        rgb = cv2.cvtColor(resized, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        (output,) = self._session.run(None, {self._input: np.ascontiguousarray(rgb.transpose(2, 0, 1)[None])})
        return self._decode_yolo(np.asarray(output, np.float32))

    def _decode_nanodet(self, outputs: Sequence[Any]) -> tuple[Floats, Floats, npt.NDArray[np.intp]]:
        in_w, in_h = self.input_size
        all_boxes, all_scores, all_classes = [], [], []
        for k, stride in enumerate(NANODET_STRIDES):
            cls = np.asarray(outputs[k], np.float32)[0][:, self._wanted]
            best = cls.argmax(axis=1)
            score = cls[np.arange(len(cls)), best]
            candidates = score >= 0.05
            if not candidates.any():
                continue
            reg = np.asarray(outputs[k + 3], np.float32)[0][candidates].reshape(-1, 4, NANODET_BINS)
            reg = np.exp(reg - reg.max(axis=2, keepdims=True))
            dist = (reg / reg.sum(axis=2, keepdims=True)) @ np.arange(NANODET_BINS, dtype=np.float32) * stride
            centres = self._grid(stride, in_w, in_h)[candidates]
            boxes = np.concatenate([centres - dist[:, :2], centres + dist[:, 2:]], axis=1)
            all_boxes.append(np.clip(boxes, 0, [in_w, in_h, in_w, in_h]))
            all_scores.append(score[candidates])
            all_classes.append(best[candidates])
        if not all_boxes:
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.intp)
        return (
            np.concatenate(all_boxes).astype(np.float32),
            np.concatenate(all_scores),
            np.concatenate(all_classes).astype(np.intp),
        )

    def _grid(self, stride: int, in_w: int, in_h: int) -> Floats:
        if stride not in self._centres:
            fw, fh = in_w // stride, in_h // stride
            ys, xs = np.mgrid[0:fh, 0:fw].astype(np.float32)
            self._centres[stride] = np.stack([(xs.ravel() + 0.5) * stride, (ys.ravel() + 0.5) * stride], axis=1)
        return self._centres[stride]

    def _decode_yolo(self, output: Floats) -> tuple[Floats, Floats, npt.NDArray[np.intp]]:
        rows = output[0]
        classes = len(self._names)
        if rows.shape[0] in (4 + classes, 5 + classes) and rows.shape[1] not in (4 + classes, 5 + classes):
            rows = rows.T  # v8 layout [4+C, N]
        v5 = rows.shape[1] == 5 + classes  # with an objectness column that scales the class scores
        scores_all = rows[:, 5:] * rows[:, 4:5] if v5 else rows[:, 4:]
        cls = scores_all[:, self._wanted]
        best = cls.argmax(axis=1)
        score = cls[np.arange(len(cls)), best]
        cx, cy, w, h = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        in_w, in_h = self.input_size
        return np.clip(boxes, 0, [in_w, in_h, in_w, in_h]).astype(np.float32), score.astype(np.float32), best

    def _select(
        self, boxes: Floats, scores: Floats, classes: npt.NDArray[np.intp], override: float | None
    ) -> list[Detection]:
        s, out = self.settings, []
        for index, label in enumerate(s.labels):
            mine = np.flatnonzero(classes == index)
            if not len(mine):
                continue
            floor = override if override is not None else self.min_score(label)
            xywh = [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes[mine]]
            kept = cv2.dnn.NMSBoxes(xywh, [float(v) for v in scores[mine]], floor, s.nms_iou)
            min_height = s.label_min_height_px.get(label, 0)
            for k in np.asarray(kept, dtype=np.intp).reshape(-1):
                x1, y1, x2, y2 = (float(v) for v in boxes[mine[k]])
                if y2 - y1 >= min_height:
                    out.append(Detection(label, float(scores[mine[k]]), (x1, y1, x2, y2)))
        return out

    # --- checks at load -----------------------------------------------------------------------------
    def _check_input(self, path: Path) -> tuple[int, int]:
        shape = self._session.get_inputs()[0].shape
        if len(shape) != 4 or shape[1] not in (3, "3"):
            raise ConfigError(f"detector model {path}: input should be [1, 3, height, width], it is {shape}")
        s = self.settings
        height = shape[2] if isinstance(shape[2], int) else s.input_height
        width = shape[3] if isinstance(shape[3], int) else s.input_width
        if s.kind == "nanodet" and (width % 32 or height % 32):
            raise ConfigError(f"detector input {width}x{height}: both sides must be multiples of 32")
        return int(width), int(height)

    def _check_outputs(self, path: Path) -> None:
        outputs = [o.shape for o in self._session.get_outputs()]
        classes = len(self._names)
        if self.settings.kind == "nanodet":
            good = len(outputs) == 6 and all(o[-1] == classes for o in outputs[:3])
            good = good and all(o[-1] == 4 * NANODET_BINS for o in outputs[3:])
            expected = f"6 outputs: 3 x [1, N, {classes}] scores and 3 x [1, N, 44] distances"
        else:
            good = len(outputs) == 1 and len(outputs[0]) == 3
            good = good and any(d in (4 + classes, 5 + classes) for d in outputs[0][1:])
            expected = f"one output [1, {4 + classes}, N] (v8) or [1, N, {5 + classes}] (v5)"
        if not good:
            raise ConfigError(f"detector model {path}: expected {expected}; it has {outputs}")

    def _model_classes(self) -> tuple[str, ...]:
        names = self._session.get_modelmeta().custom_metadata_map.get("class_names", "")
        try:
            parsed = json.loads(names) if names else []
        except ValueError:
            return ()
        return tuple(str(n) for n in parsed) if isinstance(parsed, list) else ()


def _open_session(path: Path, threads: int) -> Any:
    if not path.is_file():
        raise ConfigError(f"detector model {path}: no such file")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ConfigError(f"detector model {path}: ONNX Runtime cannot load it ({str(exc)[:200]})") from None


def load_detector(settings: DetectorSettings | None = None) -> OnnxDetector:
    return OnnxDetector(settings)
