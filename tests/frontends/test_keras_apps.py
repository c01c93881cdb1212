"""What keras.applications models hold besides Keras' own layers, read by the Keras frontend:
Keras 3's keras.ops nodes (MobileNetV3's hard_sigmoid: `x + 3.0`, `x * (1/6)`), the layers
keras.applications defines (ConvNeXt's LayerScale, InceptionResNetV2's CustomScaleLayer),
their weights in .keras and .h5 files; and, as slow tests, whole keras.applications models in
every Keras form against Keras' `count_params()` and TensorFlow's profiler."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.frontends import keras_fixtures as F
from zooprof.analysis import analyze
from zooprof.errors import UsageError
from zooprof.frontends.keras.graph import graph_from_config
from zooprof.frontends.keras.weights import FileWeight
from zooprof.ir.ops import OpKind

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# --------------------------------------------------------------------------------------
# Keras 3 configs written by hand: the .keras form names each class's module, the .h5 form not


def _tensor(layer: str, shape: list[Any]) -> dict[str, Any]:
    return {
        "class_name": "__keras_tensor__",
        "config": {"shape": [None, *shape], "dtype": "float32", "keras_history": [layer, 0, 0]},
    }


def _k3(cls: str, name: str, args: list[Any], module: str | None, **cfg: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "class_name": cls,
        "name": name,
        "config": {"name": name, **cfg},
        "inbound_nodes": [{"args": args, "kwargs": {}}],
    }
    if module is not None:
        entry["module"] = module
    return entry


def _model(layers: list[dict[str, Any]], shape: list[int], output: str) -> dict[str, Any]:
    inp = {
        "class_name": "InputLayer",
        "name": "x",
        "config": {"batch_shape": [None, *shape], "dtype": "float32", "name": "x"},
        "inbound_nodes": [],
    }
    return {
        "class_name": "Functional",
        "config": {
            "name": "m",
            "layers": [inp, *layers],
            "input_layers": [["x", 0, 0]],
            "output_layers": [[output, 0, 0]],
        },
    }


LAYER = {"trainable": True, "dtype": "float32"}


def hard_sigmoid_se(keras_file: bool) -> dict[str, Any]:
    """MobileNetV3's squeeze-excite gate on 8x8x4: conv 1x1 (4 -> 4, bias) -> keras.ops add 3.0 ->
    ReLU(6) -> keras.ops multiply 1/6 -> Multiply (the merge layer) with the input."""
    ops = "keras.src.ops.numpy" if keras_file else None
    lay = "keras.layers" if keras_file else None
    conv = dict(filters=4, kernel_size=[1, 1], strides=[1, 1], padding="valid", use_bias=True, activation="linear")
    return _model(
        [
            _k3("Conv2D", "se_conv", [_tensor("x", [8, 8, 4])], lay, **LAYER, **conv),
            _k3("Add", "add", [_tensor("se_conv", [8, 8, 4]), 3.0], ops),
            _k3("ReLU", "relu6", [_tensor("add", [8, 8, 4])], lay, **LAYER, max_value=6.0),
            _k3("Multiply", "multiply", [_tensor("relu6", [8, 8, 4]), 1 / 6], ops),
            _k3("Multiply", "gate", [[_tensor("x", [8, 8, 4]), _tensor("multiply", [8, 8, 4])]], lay, **LAYER),
            _k3("Add", "residual", [_tensor("gate", [8, 8, 4]), _tensor("x", [8, 8, 4])], ops),
        ],
        [8, 8, 4],
        "residual",
    )


@pytest.mark.parametrize("keras_file", [True, False], ids=["keras", "h5"])
def test_keras_ops_nodes_with_a_number_are_element_wise(keras_file: bool) -> None:
    g, _ = graph_from_config(hard_sigmoid_se(keras_file))
    add, mul = g.layer("add"), g.layer("multiply")
    assert add.op is OpKind.ADD and len(add.inputs) == 1 and add.attrs["scalar"] == 3.0
    assert mul.op is OpKind.MUL and len(mul.inputs) == 1 and mul.attrs["scalar"] == pytest.approx(1 / 6)
    assert g.layer("gate").op is OpKind.MUL and len(g.layer("gate").inputs) == 2  # the merge layer
    assert g.layer("residual").op is OpKind.ADD and len(g.layer("residual").inputs) == 2  # ops.add(x, y)
    a = analyze(g)
    rows = {r["name"]: r for r in a.layers}
    # by hand: 8*8*4 = 256 elements; the 1x1 conv 256 x 4 MACs; each element-wise op 1 FLOP per element
    assert a.totals["macs"] == 256 * 4 and a.totals["params"] == 4 * 4 + 4
    assert rows["add"]["flops"] == rows["multiply"]["flops"] == rows["residual"]["flops"] == 256
    assert a.totals["coverage"]["percent"] == 100.0 and a.totals["shape_mismatches"] == 0


def test_an_unknown_keras_op_stays_uncounted_and_a_merge_add_with_one_input_is_refused() -> None:
    erf = _model([_k3("Erf", "erf", [_tensor("x", [4])], "keras.src.ops.math")], [4], "erf")
    assert graph_from_config(erf)[0].layer("erf").op is OpKind.UNKNOWN
    merge = _model([_k3("Add", "add", [[_tensor("x", [4])]], "keras.layers", **LAYER)], [4], "add")
    with pytest.raises(UsageError, match="needs two or more inputs, got 1"):
        graph_from_config(merge)


def app_layers(keras_file: bool) -> dict[str, Any]:
    """ConvNeXt's LayerScale (x * gamma, gamma per channel) and InceptionResNetV2's
    CustomScaleLayer (x + r * 0.17) on 6x6x8."""
    convnext = "keras.src.applications.convnext" if keras_file else None
    inception = "keras.src.applications.inception_resnet_v2" if keras_file else None
    conv = dict(filters=8, kernel_size=[3, 3], strides=[1, 1], padding="same", use_bias=False, activation="linear")
    return _model(
        [
            _k3("Conv2D", "conv", [_tensor("x", [6, 6, 8])], "keras.layers" if keras_file else None, **LAYER, **conv),
            _k3(
                "LayerScale", "ls", [_tensor("conv", [6, 6, 8])], convnext, **LAYER, init_values=1e-6, projection_dim=8
            ),
            _k3(
                "CustomScaleLayer",
                "cs",
                [[_tensor("x", [6, 6, 8]), _tensor("ls", [6, 6, 8])]],
                inception,
                **LAYER,
                scale=0.17,
            ),
        ],
        [6, 6, 8],
        "cs",
    )


@pytest.mark.parametrize("keras_file", [True, False], ids=["keras", "h5"])
def test_keras_applications_layers_are_read_without_trust_and_counted(keras_file: bool) -> None:
    g, _ = graph_from_config(app_layers(keras_file))
    ls = g.layer("ls")
    assert ls.op is OpKind.MUL and [(p.name, p.shape, p.kind) for p in ls.params] == [("ls/gamma", (8,), "trainable")]
    assert g.layer("cs/scale").op is OpKind.MUL and g.layer("cs").op is OpKind.ADD
    a = analyze(g)
    # by hand: conv 3*3*8*8 = 576 params, 6*6*8 = 288 outputs x 72 MACs; LayerScale 8 params, 288 FLOPs;
    # CustomScaleLayer a multiply and an add, 288 FLOPs each
    assert a.totals["params"] == 576 + 8 and a.totals["macs"] == 288 * 72
    assert a.totals["flops"] == 2 * 288 * 72 + 3 * 288
    assert a.totals["coverage"]["percent"] == 100.0 and a.totals["shape_mismatches"] == 0


def test_custom_layers_of_the_same_name_stay_refused() -> None:
    cfg = app_layers(True)
    cfg["config"]["layers"][2]["module"] = "my_package.layers"  # a user's own LayerScale
    with pytest.raises(UsageError, match="custom layer of class 'LayerScale'.*--trust"):
        graph_from_config(cfg)
    cfg = app_layers(False)
    del cfg["config"]["layers"][3]["config"]["scale"]  # an .h5 CustomScaleLayer that is not keras.applications'
    with pytest.raises(UsageError, match="custom layer of class 'CustomScaleLayer'"):
        graph_from_config(cfg)


def test_layer_scale_weights_are_attributed_in_h5_and_keras_files() -> None:
    conv = FileWeight("conv", "kernel", (3, 3, 8, 8))
    # Keras 3 .h5: the unnamed weight of LayerScale is 'variable_N', matched by name, no note
    g, _ = graph_from_config(app_layers(False), weights=[conv, FileWeight("ls", "variable_3", (8,))])
    assert not any("matched by shape" in n for n in g.notes)
    # .keras: weights stored by position ('layers/layer_scale/vars/0'): all attributed, none left over
    stored = [
        FileWeight(None, "layers/conv2d/vars/0", (3, 3, 8, 8)),
        FileWeight(None, "layers/layer_scale/vars/0", (8,)),
    ]
    g, _ = graph_from_config(app_layers(True), weights=stored)
    assert not any("not attributed" in n for n in g.notes)
    assert analyze(g).totals["params"] == 576 + 8


# --------------------------------------------------------------------------------------
# whole keras.applications models: count_params() and TensorFlow's profiler, every Keras form


@pytest.fixture(scope="module")
def keras3() -> Any:
    from zooprof.frontends.compat import triton_first

    triton_first()
    return pytest.importorskip("keras")


def _check_forms(keras3: Any, tmp_path: Path, name: str, **kw: Any) -> dict[str, Any]:
    """Build keras.applications.NAME (weights=None), save .keras and .h5, and check keras:NAME and
    both files against count_params() and TensorFlow's profiler (conv + matmul, function bodies
    included). Returns the references."""
    import zooprof

    model = getattr(keras3.applications, name)(weights=None, **kw)
    shape = (1, *model.inputs[0].shape[1:])
    ref = {"params": int(model.count_params()), "macs": F.tf_profiler_macs(model, shape), "shape": shape}
    model.save(tmp_path / f"{name}.keras")
    model.save(tmp_path / f"{name}.h5")
    logical = [1, shape[3], shape[1], shape[2]]
    for source in (f"keras:{name}", str(tmp_path / f"{name}.keras"), str(tmp_path / f"{name}.h5")):
        r = zooprof.inspect(source, use_cache=False)
        assert r.model["input_shape"] == logical, source
        assert r.totals["params"] == ref["params"], source
        assert r.totals["macs"] == ref["macs"], source
        assert r.totals["coverage"]["percent"] == 100.0 and r.totals["shape_mismatches"] == 0, source
        assert not any("not attributed" in n or "matched by shape" in n for n in r.model["notes"]), source
    return ref


@pytest.mark.slow
def test_mobilenet_v3_small_in_every_keras_form(keras3: Any, tmp_path: Path) -> None:
    """keras:MobileNetV3Small is built at 224x224 (the builder leaves it open); its files keep
    the open size, so they need --input-shape, which now reads (hard_sigmoid's keras.ops nodes)."""
    import zooprof

    ref = _check_forms(keras3, tmp_path, "MobileNetV3Small", input_shape=(224, 224, 3))
    assert (ref["params"], ref["macs"]) == (2_554_968, 56_510_400)
    keras3.applications.MobileNetV3Small(weights=None).save(tmp_path / "open.keras")
    with pytest.raises(UsageError, match="dynamic dimensions"):
        zooprof.inspect(str(tmp_path / "open.keras"), use_cache=False)
    r = zooprof.inspect(str(tmp_path / "open.keras"), input_shape="1x3x224x224", use_cache=False)
    assert (r.totals["params"], r.totals["macs"]) == (ref["params"], ref["macs"])


@pytest.mark.slow
def test_convnext_tiny_in_every_form_and_tflite(keras3: Any, tmp_path: Path) -> None:
    """LayerScale counted with its gamma; and the TFLite file, whose Dense layers are
    RESHAPE [3136, 96] -> FULLY_CONNECTED ([-1, 384] in the file), counts H x W rows."""
    import tensorflow as tf

    import zooprof

    ref = _check_forms(keras3, tmp_path, "ConvNeXtTiny")
    assert (ref["params"], ref["macs"]) == (28_589_128, 4_455_531_264)
    model = keras3.applications.ConvNeXtTiny(weights=None)
    (tmp_path / "convnext.tflite").write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    r = zooprof.inspect(str(tmp_path / "convnext.tflite"), use_cache=False)
    assert r.totals["macs"] == ref["macs"] and r.totals["shape_mismatches"] == 0
    assert any("computed from the ops that produce them" in n for n in r.model["notes"])


@pytest.mark.slow
def test_inception_resnet_v2_in_every_keras_form(keras3: Any, tmp_path: Path) -> None:
    ref = _check_forms(keras3, tmp_path, "InceptionResNetV2")
    assert ref["params"] == 55_873_736
