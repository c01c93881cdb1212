"""The Keras frontend: configs read without Keras (keras_config), .h5/.keras/SavedModel files,
keras.applications models, the Teachable Machine Keras export, and bad input."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.frontends import keras_fixtures as F
from tests.helpers import run
from zooprof.analysis import analyze
from zooprof.errors import ModelShapeError, UsageError
from zooprof.frontends import ReadOptions
from zooprof.frontends.keras.graph import graph_from_config
from zooprof.ir.ops import OpKind

ROOT = Path(__file__).resolve().parents[2]
TM = ROOT.parent / "shared" / "fixtures" / "teachable-machine"
TM_KERAS = TM / "keras-2class" / "keras_model.h5"
needs_tm = pytest.mark.skipif(not TM_KERAS.is_file(), reason="../shared/fixtures/teachable-machine is not present")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def rows_by_name(graph: Any) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    a = analyze(graph)
    return {r["name"]: r for r in a.layers}, a.totals


# --------------------------------------------------------------------------------------
# configs written by hand (no TensorFlow)


def _functional(layers: list[dict[str, Any]], inputs: list[str], outputs: list[str]) -> dict[str, Any]:
    return {
        "class_name": "Functional",
        "config": {
            "name": "m",
            "layers": layers,
            "input_layers": [[n, 0, 0] for n in inputs],
            "output_layers": [[n, 0, 0] for n in outputs],
        },
    }


def _input(name: str, shape: list[Any]) -> dict[str, Any]:
    return {
        "class_name": "InputLayer",
        "name": name,
        "inbound_nodes": [],
        "config": {"batch_input_shape": [None, *shape], "dtype": "float32", "name": name},
    }


def _layer(cls: str, name: str, src: str | list[str], **cfg: Any) -> dict[str, Any]:
    srcs = [src] if isinstance(src, str) else src
    return {
        "class_name": cls,
        "name": name,
        "inbound_nodes": [[[s, 0, 0, {}] for s in srcs]],
        "config": {"name": name, "trainable": True, **cfg},
    }


def test_same_padding_is_tf_same_and_asymmetric() -> None:
    """TF SAME at stride 2 on an even size pads (0, 1): output ceil(224/2) = 112."""
    cfg = _functional(
        [
            _input("x", [224, 224, 3]),
            _layer(
                "Conv2D",
                "c",
                "x",
                filters=4,
                kernel_size=[3, 3],
                strides=[2, 2],
                padding="same",
                use_bias=False,
                activation="linear",
            ),
        ],
        ["x"],
        ["c"],
    )
    g, shapes = graph_from_config(cfg)
    assert shapes == [(1, 3, 224, 224)]
    conv = g.layer("c")
    assert conv.output.shape == (1, 4, 112, 112)
    assert conv.attrs["padding"] == ((0, 1), (0, 1))
    rows, totals = rows_by_name(g)
    assert totals["shape_mismatches"] == 0
    assert rows["c"]["formula"][0] == "(224 + 0 + 1 - 3)/2 + 1 = 112"


def test_depthwise_ignores_groups_1_and_batchnorm_stats_are_non_trainable() -> None:
    cfg = _functional(
        [
            _input("x", [8, 8, 6]),
            _layer(
                "DepthwiseConv2D",
                "dw",
                "x",
                kernel_size=[3, 3],
                strides=[1, 1],
                padding="same",
                groups=1,
                depth_multiplier=2,
                use_bias=True,
                activation="relu6",
            ),
            _layer("BatchNormalization", "bn", "dw", axis=[3]),
        ],
        ["x"],
        ["bn"],
    )
    g, _ = graph_from_config(cfg)
    dw = g.layer("dw")
    assert dw.attrs["groups"] == 6 and dw.attrs["out_channels"] == 12 and dw.output.shape == (1, 12, 8, 8)
    assert g.layer("dw/activation").op is OpKind.RELU6
    _, totals = rows_by_name(g)
    assert totals["params"] == 3 * 3 * 6 * 2 + 12 + 4 * 12
    assert totals["trainable_params"] == 3 * 3 * 6 * 2 + 12 + 2 * 12
    assert totals["non_trainable_params"] == 2 * 12
    assert totals["macs"] == 8 * 8 * 12 * 9


def test_dense_on_rank_4_is_a_1x1_conv_and_given_shapes_are_nchw() -> None:
    cfg = _functional(
        [_input("x", [None, None, 3]), _layer("Dense", "d", "x", units=5, use_bias=True, activation="linear")],
        ["x"],
        ["d"],
    )
    with pytest.raises(UsageError, match="dynamic dimensions"):
        graph_from_config(cfg)
    g, shapes = graph_from_config(cfg, input_shapes=[(2, 3, 10, 12)])
    assert shapes == [(2, 3, 10, 12)]
    d = g.layer("d")
    assert d.op is OpKind.CONV and d.output.shape == (2, 5, 10, 12) and d.source_op.startswith("Dense")
    _, totals = rows_by_name(g)
    assert totals["macs"] == 2 * 5 * 10 * 12 * 3 and totals["shape_mismatches"] == 0


def test_unknown_builtin_is_uncounted_custom_needs_trust() -> None:
    layers = [_input("x", [10, 4]), _layer("LSTM", "lstm", "x", units=3), _layer("Dense", "d", "lstm", units=2)]
    g, _ = graph_from_config(_functional(layers, ["x"], ["d"]))
    assert g.layer("lstm").op is OpKind.UNKNOWN
    _, totals = rows_by_name(g)
    assert totals["coverage"]["percent"] < 100
    custom = [_input("x", [4]), _layer("MyFancyLayer", "fancy", "x")]
    with pytest.raises(UsageError, match="custom layer of class 'MyFancyLayer'.*--trust"):
        graph_from_config(_functional(custom, ["x"], ["fancy"]))
    g, _ = graph_from_config(_functional(custom, ["x"], ["fancy"]), trust=True)
    assert g.layer("fancy").op is OpKind.UNKNOWN and g.layer("fancy").attrs["code"]
    # Keras 3 names each class's module: one of Keras' own (a keras.ops operation) is uncounted, not refused
    op = {**_layer("Erf", "erf", "x"), "module": "keras.src.ops.math"}
    g, _ = graph_from_config(_functional([_input("x", [4]), op], ["x"], ["erf"]))
    assert g.layer("erf").op is OpKind.UNKNOWN
    mine = {**_layer("Dense", "d", "x", units=2), "module": "my_package.layers", "registered_name": "Custom>Dense"}
    with pytest.raises(UsageError, match="custom layer"):
        graph_from_config(_functional([_input("x", [4]), mine], ["x"], ["d"]))


def test_weights_must_agree_with_the_config() -> None:
    from zooprof.frontends.keras.weights import FileWeight

    cfg = _functional([_input("x", [4]), _layer("Dense", "d", "x", units=2, use_bias=True)], ["x"], ["d"])
    good = [FileWeight("d", "kernel", (4, 2)), FileWeight("d", "bias", (2,))]
    graph_from_config(cfg, weights=good)
    with pytest.raises(UsageError, match=r"weight 'd/kernel' is 5x2 in the file, the config gives 4x2"):
        graph_from_config(cfg, weights=[FileWeight("d", "kernel", (5, 2)), FileWeight("d", "bias", (2,))])
    g, _ = graph_from_config(cfg, weights=[FileWeight("d", "kernel", (4, 2)), FileWeight("renamed", "bias", (2,))])
    assert any("1 weight(s) matched by shape, not by name" in n for n in g.notes)
    with pytest.raises(UsageError, match="the config gives layer 'd' a weight 'bias' 2, the file has none"):
        graph_from_config(cfg, weights=[FileWeight("d", "kernel", (4, 2))])
    with pytest.raises(UsageError, match="the weights file holds 1 tensors"):
        graph_from_config(cfg, weights=[FileWeight(None, "layers/dense/vars/0", (4, 2))])


def test_nesting_in_names_and_scope_and_depth() -> None:
    from zooprof.renderers.views import collapse

    topology, _ = F.tm_tfjs_topology(3)
    g, _ = graph_from_config(topology)
    conv = g.layer("sequential_1/model1/Conv1")
    assert conv.scope == "sequential_1.model1.Conv1"
    rows = analyze(g).layers
    top = collapse(rows, 1)
    assert [r["name"] for r in top] == ["sequential_1", "sequential_2"]
    assert sum(r["params"] for r in top) == F.tm_small_params(3)
    assert [r["name"] for r in collapse(rows, 2)][:1] == ["sequential_1.model1"]


def test_bad_shapes_name_the_layer() -> None:
    cfg = _functional(
        [
            _input("x", [8, 8, 3]),
            _layer("Conv2D", "big", "x", filters=2, kernel_size=[9, 9], strides=[1, 1], padding="valid"),
        ],
        ["x"],
        ["big"],
    )
    with pytest.raises(ModelShapeError, match="'big'.*larger than its input"):
        graph_from_config(cfg)
    reshape = _functional([_input("x", [6]), _layer("Reshape", "r", "x", target_shape=[4, -1])], ["x"], ["r"])
    with pytest.raises(ModelShapeError, match="Reshape"):
        graph_from_config(reshape)


# --------------------------------------------------------------------------------------
# real Keras models: every layer's shape and the parameter counts as Keras computes them


def _import(name: str) -> Any:
    from zooprof.frontends.compat import triton_first

    triton_first()  # TensorFlow loaded before triton crashes a later torch import
    return pytest.importorskip(name)


@pytest.fixture(scope="module")
def tf_keras() -> Any:
    return _import("tf_keras")


@pytest.fixture(scope="module")
def keras3() -> Any:
    return _import("keras")


def _compare_with_keras(model: Any, graph: Any) -> None:
    rows, totals = rows_by_name(graph)
    assert (totals["params"], totals["trainable_params"]) == F.count(model)
    assert totals["coverage"]["percent"] == 100.0 and totals["shape_mismatches"] == 0
    last: dict[str, dict[str, Any]] = {}
    for name, row in rows.items():
        last[name.split("/")[0]] = row
    keras_shapes = F.keras_layer_shapes(model)
    assert keras_shapes
    for name, shape in keras_shapes.items():
        assert tuple(last[name]["output_shape"]) == shape, name


@pytest.mark.slow
@pytest.mark.parametrize("which", ["tf_keras", "keras3"])
@pytest.mark.parametrize("build", [F.feature_model, F.nested_model])
def test_config_matches_keras(which: str, build: Any, request: pytest.FixtureRequest) -> None:
    K = request.getfixturevalue(which)
    model = build(K)
    graph, _ = graph_from_config(model.get_config())
    _compare_with_keras(model, graph)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory, tf_keras: Any, keras3: Any) -> dict[str, Any]:
    """The feature model saved as a Keras 2 .h5 and SavedModel (tf_keras) and a Keras 3 .keras."""
    import warnings

    d = tmp_path_factory.mktemp("keras")
    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m2 = F.feature_model(tf_keras)
        m2.save(d / "features.h5")
        m2.save(d / "saved_features", save_format="tf")
        m2.save_weights(d / "weights_only.h5")
        out["counts"] = F.count(m2)
        m3 = F.feature_model(keras3)
        m3.save(d / "features.keras")
        m3.save(d / "features_k3.h5")
        nested = F.nested_model(tf_keras)
        nested.save(d / "nested.h5")
        out["nested_counts"] = F.count(nested)
        lam = F.lambda_model(tf_keras)
        lam.save(d / "lambda.h5")
        rnn = F.rnn_model(tf_keras)
        rnn.save(d / "rnn.h5")
        out["rnn_counts"] = F.count(rnn)
    out["dir"] = d
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", ["features.h5", "features.keras", "features_k3.h5", "saved_features", "nested.h5"])
def test_keras_files(saved: dict[str, Any], name: str) -> None:
    import zooprof

    r = zooprof.inspect(str(saved["dir"] / name), use_cache=False)
    counts = saved["nested_counts"] if name.startswith("nested") else saved["counts"]
    assert (r.totals["params"], r.totals["trainable_params"]) == counts
    assert r.totals["coverage"]["percent"] == 100.0 and r.totals["shape_mismatches"] == 0
    assert r.model["framework"] == "keras"
    if name == "nested.h5":
        names = [row["name"] for row in r.layers]
        assert "sequential_1/model1/inner_conv" in names and "shared#1" in names
        frozen = next(row for row in r.layers if row["name"] == "sequential_1/model1/inner_conv")
        assert frozen["trainable_params"] == 0 and frozen["non_trainable_params"] == 3 * 3 * 3 * 8 + 8


@pytest.mark.slow
def test_keras_files_import_no_tensorflow(saved: dict[str, Any]) -> None:
    """h5py, zipfile and keras_metadata.pb are enough: no framework is imported."""
    code = textwrap.dedent(f"""
        import sys, zooprof
        for f in ("features.h5", "features.keras", "saved_features"):
            zooprof.inspect({str(saved["dir"])!r} + "/" + f, use_cache=False)
        print("HEAVY=" + ",".join(m for m in ("tensorflow", "keras", "tf_keras", "torch") if m in sys.modules))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY=" in r.stdout, r.stderr
    assert r.stdout.split("HEAVY=")[1].strip() == ""


@pytest.mark.slow
def test_lambda_is_refused_unless_trusted(saved: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    import zooprof

    path = str(saved["dir"] / "lambda.h5")
    with pytest.raises(UsageError, match="Lambda layer 'double'.*--trust"):
        zooprof.inspect(path, use_cache=False)
    code, _, err = run(capsys, "inspect", path, "--no-cache")
    assert code == 2 and "Lambda" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    r = zooprof.inspect(path, trust=True, use_cache=False)
    double = next(row for row in r.layers if row["name"] == "double")
    assert double["op"] == "unknown" and not double["counted"]
    assert r.totals["params"] == 8 * 4 + 4 + 4 * 2 + 2


@pytest.mark.slow
def test_uncounted_layers_take_their_weights_from_the_file(saved: dict[str, Any]) -> None:
    import zooprof

    r = zooprof.inspect(str(saved["dir"] / "rnn.h5"), use_cache=False)
    assert (r.totals["params"], r.totals["trainable_params"]) == saved["rnn_counts"]
    rows = {row["name"]: row for row in r.layers}
    assert rows["bi"]["op"] == "unknown" and rows["bi"]["output_shape"] == [1, 6, 10]
    assert rows["gru"]["output_shape"] == [1, 5] and rows["out"]["macs"] == 10
    assert r.totals["coverage"]["percent"] < 100
    assert any("weights of uncounted layers taken from the file" in n for n in r.model["notes"])


@pytest.mark.slow
def test_weights_only_h5_is_refused(saved: dict[str, Any]) -> None:
    import zooprof

    with pytest.raises(UsageError, match="weights only"):
        zooprof.inspect(str(saved["dir"] / "weights_only.h5"), use_cache=False)


def test_truncated_and_invalid_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import zooprof

    bad_h5 = tmp_path / "bad.h5"
    if TM_KERAS.is_file():
        bad_h5.write_bytes(TM_KERAS.read_bytes()[:100_000])
    else:
        bad_h5.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100)
    bad_keras = tmp_path / "bad.keras"
    bad_keras.write_bytes(b"PK\x03\x04 not really a zip")
    for path, message in ((bad_h5, "not a valid HDF5 file"), (bad_keras, "not a valid .keras file")):
        with pytest.raises(UsageError, match=message):
            zooprof.inspect(str(path), use_cache=False)
        code, out, err = run(capsys, "inspect", str(path), "--no-cache")
        assert code == 2 and message in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------------------
# Teachable Machine's Keras export (Keras 2.4; plain Keras 3 cannot load it)


@needs_tm
def test_teachable_machine_keras_h5() -> None:
    import zooprof

    r = zooprof.inspect(str(TM_KERAS), use_cache=False)
    assert r.totals["params"] == 538_508
    assert r.totals["trainable_params"] == 538_508 - 14_080  # BatchNorm moving statistics
    assert r.totals["coverage"]["percent"] == 100.0 and r.totals["shape_mismatches"] == 0
    assert r.model["input_shape"] == [1, 3, 224, 224]
    names = [row["name"] for row in r.layers]
    assert names[0] == "sequential_1/model1/Conv1_pad" and "sequential_3/dense_Dense2" in names
    assert any("Keras 2.4.0" in n for n in r.model["notes"])


@needs_tm
@pytest.mark.slow
def test_teachable_machine_keras_h5_imports_no_tensorflow() -> None:
    code = textwrap.dedent(f"""
        import sys, zooprof
        r = zooprof.inspect({str(TM_KERAS)!r}, use_cache=False)
        print("PARAMS", r.totals["params"])
        print("HEAVY=" + ",".join(m for m in ("tensorflow", "keras", "tf_keras", "torch") if m in sys.modules))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "PARAMS 538508" in r.stdout, r.stderr
    assert r.stdout.split("HEAVY=")[1].strip() == ""


# --------------------------------------------------------------------------------------
# keras.applications and the zoo entries


@pytest.mark.slow
def test_keras_mobilenet_v2(keras3: Any) -> None:
    import zooprof

    r = zooprof.inspect("keras:MobileNetV2", use_cache=False)
    assert r.totals["params"] == 3_538_984
    assert r.totals["trainable_params"] == 3_504_872 and r.totals["non_trainable_params"] == 34_112
    assert r.totals["macs"] == 300_774_272  # = torchvision mobilenet_v2 (the PyTorch twin)
    assert r.totals["coverage"]["percent"] == 100.0 and r.totals["shape_mismatches"] == 0
    assert r.model["input_shape"] == [1, 3, 224, 224]
    if importlib.util.find_spec("torchvision") is not None:
        twin = zooprof.inspect("mobilenet_v2", use_cache=False).totals  # the PyTorch twin
        assert twin["macs"] == r.totals["macs"]
        assert twin["params"] + 34_112 == r.totals["params"]  # torchvision: BN statistics are buffers


@pytest.mark.slow
def test_keras_mobilenet_v1_025_and_its_receptive_field(keras3: Any) -> None:
    import zooprof

    r = zooprof.inspect("keras:MobileNet?alpha=0.25", use_cache=False)
    assert r.totals["params"] == 475_544 and r.totals["trainable_params"] == 470_072
    assert r.totals["macs"] == 41_030_272
    rf = {row["name"]: row["rf"] for row in r.layers}
    assert (rf["conv_pw_13"]["size"], rf["conv_pw_13"]["stride"], rf["conv_pw_13"]["padding"]) == (315, 32, 126)
    # google-research/receptive_field mobilenet_v1: pointwise RF 7, 11, 19, 27, 43, 59, 91 ... 315
    sizes = [rf[f"conv_pw_{i}"]["size"] for i in range(1, 14)]
    assert sizes == [7, 11, 19, 27, 43, 59, 91, 123, 155, 187, 219, 251, 315]


@pytest.mark.slow
def test_keras_app_input_shape_and_options(keras3: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import zooprof

    r = zooprof.inspect("keras:MobileNetV2?alpha=0.35&include_top=false", input_shape="2x3x160x160", use_cache=False)
    assert r.model["input_shape"] == [2, 3, 160, 160]
    assert r.layers[-1]["output_shape"] == [2, 1280, 5, 5]
    code, _, err = run(capsys, "inspect", "keras:MobileNetV9", "--no-cache")
    assert code == 2 and "keras.applications has no model 'MobileNetV9'" in err and "MobileNetV2" in err


@pytest.mark.slow
@pytest.mark.parametrize("name", ["keras-vgg16", "keras-mobilenet_v2", "keras-mobilenet_v1", "tm-image-v2"])
def test_keras_zoo_entries(name: str, keras3: Any) -> None:
    """The manifests' figures, read through the Keras frontend directly (the zoo test runs them
    through zooprof.inspect)."""
    from zooprof.frontends.keras import read as frontend
    from zooprof.measure.static import reference_check
    from zooprof.reference.registry import zoo
    from zooprof.reference.resolve import resolve

    entry = zoo().get(name)
    assert entry.framework == "keras" and entry.reference.get("citation")
    graph, shapes = frontend.read(resolve(name), None, ReadOptions())
    a = analyze(graph)
    checks = reference_check(entry.reference, a.layers, a.totals)
    assert checks and all(c["ok"] for c in checks.values()), checks
    if "trainable_params" in entry.reference:
        assert a.totals["trainable_params"] == entry.reference["trainable_params"]
    rows = {r["name"]: r for r in a.layers}
    for layer, (size, stride, padding) in entry.reference.get("rf", {}).items():
        rf = rows[layer]["rf"]
        assert (rf["size"], rf["stride"], rf["padding"]) == (size, stride, padding), layer
    assert a.totals["coverage"]["percent"] == 100.0 and a.totals["shape_mismatches"] == 0


@pytest.mark.slow
def test_tm_image_v2_classes_option(keras3: Any) -> None:
    from zooprof.frontends.keras import read as frontend
    from zooprof.reference.resolve import resolve

    ref = resolve("tm-image-v2?classes=5")
    assert ref.kwargs == {"classes": 5}
    graph, _ = frontend.read(ref, None, ReadOptions())
    totals = analyze(graph).totals
    assert totals["params"] == 538_808  # = the 5-class TF.js export
    assert totals["macs"] == 58_134_308
    names = [layer.name for layer in graph.layers]
    assert names[0].startswith("sequential_1/model1/") and names[-1] == "sequential_3/dense_Dense2/activation"


def test_keras_metadata_pb_decoder() -> None:
    from zooprof.frontends.keras.files import keras_metadata_config

    meta = json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": []}}).encode()

    def ld(field: int, payload: bytes) -> bytes:
        n, out = len(payload), b""
        while True:
            b = n & 0x7F
            n >>= 7
            out += bytes([b | (0x80 if n else 0)])
            if not n:
                break
        return bytes([(field << 3) | 2]) + out + payload

    node = ld(3, b"root") + ld(4, b"_tf_keras_sequential") + ld(5, meta)
    assert keras_metadata_config(ld(1, node)) == {"class_name": "Sequential", "config": {"name": "s", "layers": []}}


def test_a_savedmodel_without_keras_metadata_needs_trust(saved: dict[str, Any], tmp_path: Path) -> None:
    """Without keras_metadata.pb the model would be revived from the file's TensorFlow functions,
    which zooprof cannot check first: refused without --trust; with it, tf_keras is tried (and says
    in one line that it cannot rebuild a Keras model from functions alone)."""
    import shutil

    import zooprof
    from zooprof.errors import UsageError

    folder = tmp_path / "bare_savedmodel"
    shutil.copytree(saved["dir"] / "saved_features", folder)
    (folder / "keras_metadata.pb").unlink()
    with pytest.raises(UsageError, match="pass --trust if you trust its source"):
        zooprof.inspect(str(folder), use_cache=False)
    with pytest.raises(UsageError, match="TensorFlow SavedModel that Keras cannot load"):
        zooprof.inspect(str(folder), use_cache=False, trust=True)
