"""The TFLite frontend: self-made Keras -> TFLite files (float32, int8, float16, an unmapped
op, an Edge TPU-style custom op) checked against hand calculations, and the real Teachable
Machine exports in ../shared when that folder is present."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED
from tests.frontends import tflite_fixtures as fx
from tests.helpers import heavy_imports, run
from zooprof.errors import UsageError
from zooprof.frontends.tflite import read as tflite
from zooprof.frontends.tflite.custom_ops import edgetpu_note
from zooprof.frontends.tflite.schema import load
from zooprof.ir.ops import OpKind
from zooprof.measure.static import inspect

TM = SHARED / "fixtures" / "teachable-machine" / "tflite-2class"
UNQUANT = TM / "converted_tflite" / "model_unquant.tflite"
QUANT = TM / "converted_tflite_quantized" / "model.tflite"
EDGETPU = TM / "converted_edgetpu" / "model_edgetpu.tflite"
needs_shared = pytest.mark.skipif(
    not UNQUANT.is_file(), reason=f"the real Teachable Machine TFLite exports are not at {TM} (no ../shared)"
)

#: Teachable Machine image model: MobileNetV2 alpha 0.35 + GAP + Dense(100) + Dense(2, no bias)
TM_KERAS_PARAMS = 538_508
TM_MACS = 58_134_008
TM_TFLITE_PARAMS = 517_388


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> fx.Built:
    pytest.importorskip("tensorflow", reason="TensorFlow builds the self-made TFLite files")
    pytest.importorskip("ai_edge_litert", reason="LiteRT's schema classes write the Edge TPU-style file")
    return fx.build(tmp_path_factory.mktemp("tflite"))


def static(path: Path, **kw: Any) -> Any:
    return inspect(str(path), use_cache=False, **kw)


def by_source(graph: Any, source_op: str) -> list[Any]:
    return [layer for layer in graph.layers if layer.source_op == source_op]


# --------------------------------------------------------------------------------------
# self-made files


def test_float_params_and_macs_match_hand_and_keras(built: fx.Built) -> None:
    r = static(built.float_file)
    assert r.model["framework"] == "tflite" and r.model["kind"] == "tflite-file"
    assert r.totals["macs"] == fx.MACS == built.keras_macs == 363_136
    # BN folded: Keras counts dw_bn's 4 x 16 values, TFLite keeps a 16-value depthwise bias
    assert r.totals["params"] == fx.TFLITE_PARAMS == built.keras_params - 3 * 16 == 5_962
    assert r.totals["weight_bytes"] == 4 * fx.TFLITE_PARAMS
    assert r.totals["shape_mismatches"] == 0
    assert r.totals["coverage"]["percent"] == 100.0
    assert r.model["inputs"] == [{"name": "serving_default_image:0", "shape": [1, 3, 32, 32], "dtype": "float32"}]


def test_layers_attributes_and_logical_shapes(built: fx.Built) -> None:
    g, shapes = tflite.read_tflite(built.float_file)
    assert shapes == [(1, 3, 32, 32)] and g.inputs[0].shape == (1, 3, 32, 32)
    conv1, pw, conv_same = by_source(g, "CONV_2D")
    (dw,) = by_source(g, "DEPTHWISE_CONV_2D")
    # pad (0, 1) + VALID conv became one SAME conv: TF puts the odd pixel after
    expected = {
        "kernel": (3, 3),
        "stride": (2, 2),
        "padding": ((0, 1), (0, 1)),
        "padding_mode": "SAME",
        "in_channels": 3,
        "out_channels": 16,
        "groups": 1,
        "bias": True,
        "fused_activation": "RELU",
    }
    assert {k: conv1.attrs[k] for k in expected} == expected
    assert conv1.output.shape == (1, 16, 16, 16)
    assert [p.shape for p in conv1.params] == [(16, 3, 3, 3), (16,)]
    relu = g.layers[g.layers.index(conv1) + 1]
    assert relu.op is OpKind.RELU and relu.inplace and relu.source_op == "CONV_2D fused RELU"
    assert relu.inputs[0].name == conv1.output.name and relu.output.name == conv1.output.name.split("#")[0]
    assert dw.op is OpKind.CONV and dw.attrs["groups"] == 16 and dw.attrs["padding"] == (1, 1)
    assert [p.shape for p in dw.params] == [(16, 1, 3, 3), (16,)]  # the BN became its bias
    assert dw.attrs["fused_activation"] == "RELU6"
    assert pw.attrs["kernel"] == (1, 1) and pw.attrs["padding"] == (0, 0)
    assert conv_same.attrs["padding"] == ((0, 1), (0, 1)) and conv_same.output.shape == (1, 16, 8, 8)
    (pad,) = by_source(g, "PAD")
    assert pad.op is OpKind.PAD and pad.attrs["padding"] == ((1, 1), (1, 1)) and pad.output.shape == (1, 16, 18, 18)
    (avg,) = by_source(g, "AVERAGE_POOL_2D")
    assert avg.attrs["kernel"] == (3, 3) and avg.attrs["stride"] == (2, 2) and avg.output.shape == (1, 16, 8, 8)
    (cat,) = by_source(g, "CONCATENATION")
    assert cat.attrs["axis"] == 1 and cat.output.shape == (1, 32, 8, 8)  # NHWC axis 3 -> C
    (mx,) = by_source(g, "MAX_POOL_2D")
    assert mx.attrs["padding"] == (0, 0) and mx.output.shape == (1, 32, 4, 4)
    (mean,) = by_source(g, "MEAN")
    assert mean.attrs["axis"] == (2, 3) and mean.output.shape == (1, 32)  # NHWC (1, 2) -> H, W
    fc1, fc2 = by_source(g, "FULLY_CONNECTED")
    assert fc1.attrs == {"in_features": 32, "out_features": 64, "bias": True, "fused_activation": "RELU"}
    assert [p.shape for p in fc1.params] == [(64, 32), (64,)]
    (sm,) = by_source(g, "SOFTMAX")
    assert sm.attrs["axis"] == 1 and g.outputs == (sm.output.name,)
    ops = load(built.float_file).ops
    assert len([x for x in g.layers if "fused" not in x.source_op]) == len(ops) == 13  # a layer per operator
    assert any("fused activation" in n for n in g.notes) and any("BatchNorm" in n for n in g.notes)


def test_same_model_through_keras_frontend(built: fx.Built) -> None:
    try:
        from zooprof.frontends.keras import read as _keras  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"the Keras frontend is not importable: {exc}")
    k, t = static(built.keras_file), static(built.float_file)
    assert k.totals["macs"] == t.totals["macs"] == fx.MACS
    assert k.totals["params"] + k.totals["buffers"] == t.totals["params"] + 3 * 16  # BN folding, nothing else
    shapes = [[r["output_shape"] for r in res.layers if r["op"] in ("conv", "dense", "concat")] for res in (k, t)]
    assert shapes[0] == shapes[1]  # logical order on both sides


def test_int8_weights_bytes_and_quantisation(built: fx.Built) -> None:
    rf, r8 = static(built.float_file), static(built.int8_file)
    assert r8.totals["params"] == rf.totals["params"] and r8.totals["macs"] == rf.totals["macs"]
    # int8 weights (1 byte) and int32 biases (4 bytes) against float32 everywhere
    assert r8.totals["weight_bytes"] == (fx.TFLITE_PARAMS - fx.BIASES) + 4 * fx.BIASES
    assert 3.5 < rf.totals["weight_bytes"] / r8.totals["weight_bytes"] < 4.0
    g, _ = tflite.read_tflite(built.int8_file)
    first, last = g.layers[0], g.layers[-1]
    assert (first.source_op, first.op, first.inputs[0].dtype, first.output.dtype) == (
        "QUANTIZE",
        OpKind.COPY,
        "float32",
        "int8",
    )
    assert (last.source_op, last.op, last.output.dtype) == ("DEQUANTIZE", OpKind.COPY, "float32")
    q = first.output.quant
    assert q is not None and len(q.scale) == 1 and q.scale[0] > 0 and q.axis is None
    conv = by_source(g, "CONV_2D")[0]
    assert [p.dtype for p in conv.params] == ["int8", "int32"]
    assert conv.inputs[0].quant is not None and conv.output.shape == (1, 16, 16, 16)
    assert next(n for n in g.notes if n.startswith("quantisation")).count("full integer") == 1
    assert r8.totals["peak_activation_bytes"] < rf.totals["peak_activation_bytes"]


def test_float16_weights_are_dequantised(built: fx.Built) -> None:
    r = static(built.fp16_file)
    assert r.totals["params"] == fx.TFLITE_PARAMS and r.totals["macs"] == fx.MACS
    assert r.totals["weight_bytes"] == 2 * fx.TFLITE_PARAMS
    g, _ = tflite.read_tflite(built.fp16_file)
    deq = by_source(g, "DEQUANTIZE")
    assert deq and all(p.dtype == "float16" for layer in deq for p in layer.params)
    assert by_source(g, "CONV_2D")[0].attrs["out_channels"] == 16


def test_elementwise_activation_and_movement_ops(built: fx.Built) -> None:
    r = static(built.ops_file)
    assert r.totals["coverage"]["percent"] == 100.0 and r.totals["shape_mismatches"] == 0
    assert r.totals["macs"] == 144 * 8
    kinds = {row["source_op"]: row["op"] for row in r.layers}
    assert {
        k: kinds.get(k)
        for k in (
            "HARD_SWISH",
            "LOGISTIC",
            "TANH",
            "MUL",
            "SUB",
            "ADD",
            "DIV",
            "STRIDED_SLICE",
            "TRANSPOSE",
            "RESHAPE",
            "FULLY_CONNECTED",
            "SOFTMAX",
            "DIV fused RELU",
        )
    } == {
        "HARD_SWISH": "hardswish",
        "LOGISTIC": "sigmoid",
        "TANH": "tanh",
        "MUL": "mul",
        "SUB": "sub",
        "ADD": "add",
        "DIV": "div",
        "STRIDED_SLICE": "slice",
        "TRANSPOSE": "permute",
        "RESHAPE": "reshape",
        "FULLY_CONNECTED": "dense",
        "SOFTMAX": "softmax",
        "DIV fused RELU": "relu",
    }
    g, _ = tflite.read_tflite(built.ops_file)
    (div,) = by_source(g, "DIV")
    assert div.name.endswith("/truediv") and div.attrs["fused_activation"] == "RELU"  # named after the op
    (perm,) = by_source(g, "TRANSPOSE")
    assert perm.attrs["perm"] == (0, 3, 1, 2) and perm.output.shape == (1, 4, 6, 6)
    assert g.inputs[0].shape == (1, 8, 8, 4)  # no conv or pool: not known to be an image, file order
    hswish = next(row for row in r.layers if row["source_op"] == "HARD_SWISH")
    assert hswish["flops"] == 4 * 8 * 8 * 4


@pytest.fixture(scope="module")
def layernorm_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("tensorflow", reason="TensorFlow builds the self-made TFLite files")
    fx._quiet()
    path = tmp_path_factory.mktemp("layernorm") / "layernorm.tflite"
    path.write_bytes(fx._convert(fx.layernorm_model(), "float"))
    return path


def test_layernorm_ops_are_counted(layernorm_file: Path) -> None:
    """ConvNeXt's ops (NEG, SQUARED_DIFFERENCE, RSQRT; REDUCE_PROD on shapes) have rules: 100 %
    coverage. By hand, LayerNorm over C = 8 at 8 x 8 positions and over C = 16 at 1 position:
    squared difference 2 per element, negate and rsqrt 1 per position; the products of the
    RESHAPE target (N, H, W) = (1, 8, 8) and (C,) = (8,): 3 + 1 multiplies."""
    r = static(layernorm_file)
    assert r.totals["coverage"]["percent"] == 100.0 and r.totals["shape_mismatches"] == 0
    assert r.totals["macs"] == 8 * 8 * 8 * 27 + 64 * 16 * 8 + 16 * 4  # conv, Dense on the image, head
    ops: dict[str, set[str]] = {}
    flops: dict[str, list[int]] = {}
    for row in r.layers:
        ops.setdefault(row["source_op"], set()).add(row["op"])
        flops.setdefault(row["source_op"], []).append(row["flops"])
    assert {k: ops[k] for k in ("SQUARED_DIFFERENCE", "NEG", "RSQRT", "REDUCE_PROD")} == {
        "SQUARED_DIFFERENCE": {"squared_difference"},
        "NEG": {"neg"},
        "RSQRT": {"rsqrt"},
        "REDUCE_PROD": {"prod"},
    }
    assert flops["SQUARED_DIFFERENCE"] == [2 * 8 * 8 * 8, 2 * 16]
    assert flops["NEG"] == flops["RSQRT"] == [8 * 8, 1]
    assert flops["REDUCE_PROD"] == [3, 1]


def test_resize_is_counted_and_dynamic_shapes_are_measured(built: fx.Built) -> None:
    r = static(built.unknown_file)
    assert r.totals["coverage"]["uncounted_ops"] == {}
    resize = next(row for row in r.layers if row["source_op"] == "RESIZE_BILINEAR")
    assert resize["op"] == "resize" and resize["counted"] is True and resize["output_shape"] == [1, 3, 16, 16]
    assert resize["macs"] == 0 and resize["flops"] == 7 * 3 * 16 * 16  # bilinear: 4 multiplies + 3 adds each
    # UpSampling2D leaves H dynamic in the file: measured with LiteRT, the conv is 30x30
    assert r.totals["macs"] == fx.RESIZE_MACS and r.totals["shape_mismatches"] == 0
    assert any("measured with the LiteRT interpreter" in n for n in r.model["notes"])


def test_rows_the_file_leaves_dynamic_are_propagated(built: fx.Built, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Dense on an image: FULLY_CONNECTED's rows are -1 in the file (stored 1), H x W = 64 in
    fact; computed from the RESHAPE before it, in pure Python (LiteRT disabled here)."""
    assert built.dense_image_file is not None
    monkeypatch.setattr(tflite, "measure_shapes", lambda *a: ({}, "disabled in this test"))
    r = static(built.dense_image_file)
    assert r.totals["macs"] == fx.DENSE_IMAGE_MACS and r.totals["shape_mismatches"] == 0
    fc = next(row for row in r.layers if row["op"] == "dense" and row["macs"] == 8 * 8 * 6 * 4)
    assert fc["output_shape"] == [64, 6]
    assert any("computed from the ops that produce them" in n for n in r.model["notes"])
    assert not any("unreliable" in n for n in r.model["notes"])
    r = static(built.dense_image_file, input_shape="2x3x8x8")
    assert r.totals["macs"] == 2 * fx.DENSE_IMAGE_MACS and r.totals["shape_mismatches"] == 0


def test_propagation_helpers() -> None:
    from zooprof.frontends.tflite.propagate import broadcast, reshaped

    assert reshaped((1, 56, 56, 96), [3136, 96]) == (3136, 96)
    assert reshaped((3136, 384), [1, 56, 56, -1]) == (1, 56, 56, 384)
    assert reshaped((1, 10), [3, -1]) is None and reshaped((1, 10), None) is None
    assert broadcast([(1, 56, 56, 1), (96,)]) == (1, 56, 56, 96) and broadcast([(3,), (4,)]) is None


def test_batch_can_change_and_nothing_else(built: fx.Built, capsys: pytest.CaptureFixture[str]) -> None:
    for shape in ("4x3x32x32", "4x32x32x3"):  # logical or the file's NHWC
        r = static(built.float_file, input_shape=shape)
        assert r.totals["macs"] == 4 * fx.MACS and r.totals["params"] == fx.TFLITE_PARAMS
        assert r.model["input_shape"] == [4, 3, 32, 32]
    code, _, err = run(capsys, "inspect", str(built.float_file), "--input-shape", "1x3x64x64", "--no-cache")
    assert code == 2 and "fixes the shape of input" in err and len(err.strip().splitlines()) == 1


def test_dynamic_input_needs_a_shape(built: fx.Built, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "inspect", str(built.dynamic_file), "--no-cache")
    assert code == 2 and "dynamic dimension(s) 1, 2" in err and "--input-shape 1x3x224x224" in err
    assert len(err.strip().splitlines()) == 1
    pytest.importorskip("ai_edge_litert", reason="the LiteRT interpreter sizes dynamic tensors")
    r = static(built.dynamic_file, input_shape="1x3x32x32")
    assert r.totals["macs"] == fx.DYNAMIC_MACS_AT_32 and r.totals["shape_mismatches"] == 0
    assert r.model["input_shape"] == [1, 3, 32, 32]
    conv = next(row for row in r.layers if row["op"] == "conv")
    assert conv["output_shape"] == [1, 8, 32, 32] and conv["padding"] == [1, 1]


def test_edgetpu_style_file(built: fx.Built) -> None:
    g, shapes = tflite.read_tflite(built.edgetpu_file)
    assert edgetpu_note(1) in g.notes
    (layer,) = g.layers
    assert layer.op is OpKind.UNKNOWN and layer.source_op == "edgetpu-custom-op"
    x = g.inputs[0]
    assert shapes == [(1, 3, 32, 32)] and x.dtype == "int8" and x.quant is not None and x.quant.zero_point == (-128,)
    r = static(built.edgetpu_file)
    assert r.totals["coverage"]["uncounted_ops"] == {"edgetpu-custom-op": 1} and r.totals["params"] == 0


@pytest.mark.parametrize("cut", ["empty", "header", "third", "half", "tail"])
def test_truncated_file_is_one_line_exit_2(
    built: fx.Built, tmp_path: Path, capsys: pytest.CaptureFixture[str], cut: str
) -> None:
    data = built.float_file.read_bytes()
    keep = {"empty": 0, "header": 7, "third": len(data) // 3, "half": len(data) // 2, "tail": len(data) - 16}[cut]
    bad = tmp_path / "model.tflite"
    bad.write_bytes(data[:keep])
    with pytest.raises(UsageError, match="model.tflite is not a valid TFLite file"):
        load(bad)
    code, out, err = run(capsys, "inspect", str(bad), "--no-cache")
    assert code == 2 and "model.tflite is not a valid TFLite file" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_not_a_flatbuffer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "model.tflite"
    bad.write_text("this is not a model, just some text that is long enough\n" * 3)
    code, _, err = run(capsys, "inspect", str(bad), "--no-cache")
    assert code == 2 and "not a valid TFLite file: no TFL3 identifier" in err and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_inspect_cli_end_to_end(built: fx.Built, capsys: pytest.CaptureFixture[str]) -> None:
    assert heavy_imports("inspect", str(built.int8_file), "--no-cache") == []  # static: no TensorFlow, no LiteRT
    code, out, _ = run(capsys, "inspect", str(built.int8_file), "--no-cache")
    assert code == 0 and "363,136" in out and "Coverage: 100.0 %" in out and "full integer" in out
    code, out, _ = run(capsys, "inspect", str(built.int8_file), "--no-cache", "--format", "json")
    rows = json.loads(out)["layers"]
    assert code == 0 and rows[0]["source_op"] == "QUANTIZE" and rows[-1]["source_op"] == "DEQUANTIZE"
    assert rows[0]["op"] == rows[-1]["op"] == "copy" and rows[0]["dtype"] == "int8"


@pytest.mark.slow
def test_profile_self_made_on_litert(built: fx.Built, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "profile",
        str(built.float_file),
        str(built.edgetpu_file),
        "--runtime",
        "tflite",
        "--max-time",
        "0.3",
        "-o",
        str(tmp_path / "{model}.json"),
    )
    assert code == 1  # the Edge TPU row failed
    results = {p.stem: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}
    ok = next(v for k, v in results.items() if "float" in k)["measurements"][0]
    assert ok["status"] == "ok" and ok["timing"]["latency_ms"]["median"] > 0
    tpu = next(v for k, v in results.items() if "edgetpu" in k)["measurements"][0]
    assert tpu["status"] == "failed" and "Edge TPU model: 1 op(s) compiled for the Edge TPU" in tpu["reason"]


# --------------------------------------------------------------------------------------
# real Teachable Machine exports (../shared)


@needs_shared
def test_teachable_float_and_quantised() -> None:
    rf, rq = static(UNQUANT), static(QUANT)
    for r in (rf, rq):
        assert r.totals["macs"] == TM_MACS  # "about 58.13 M MACs"
        assert r.totals["params"] == TM_TFLITE_PARAMS
        assert r.totals["coverage"]["percent"] == 100.0 and r.totals["shape_mismatches"] == 0
        assert r.model["input_shape"] == [1, 3, 224, 224]
    # Keras' 538,508 counts every BN's gamma, beta, moving mean and variance (4 x C); the
    # converter folds each BN into the conv before it (MobileNetV2 convs have no bias), which
    # gains a C-value bias. Every conv of the backbone has a BN, so C summed = conv outputs.
    g, _ = tflite.read_tflite(UNQUANT)
    convs = [layer for layer in g.layers if layer.op is OpKind.CONV]
    bn_channels = sum(layer.attrs["out_channels"] for layer in convs)
    assert bn_channels == 7_040 and len(convs) == 52
    assert TM_KERAS_PARAMS - 4 * bn_channels + bn_channels == TM_TFLITE_PARAMS
    # float32: 4 bytes each; quantised: int8 weights + int32 biases (52 conv biases, the first dense's)
    biases = bn_channels + 100
    assert rf.totals["weight_bytes"] == 4 * TM_TFLITE_PARAMS == 2_069_552
    assert rq.totals["weight_bytes"] == (TM_TFLITE_PARAMS - biases) + 4 * biases == 538_808
    q, _ = tflite.read_tflite(QUANT)
    x = q.inputs[0]
    assert x.dtype == "uint8" and x.quant is not None and x.quant.zero_point == (127,)
    assert x.quant.scale[0] == pytest.approx(1 / 127.5, rel=1e-6)
    assert q.layers[0].source_op == "QUANTIZE" and q.layers[-1].source_op == "QUANTIZE"
    assert q.layers[-1].output.dtype == "uint8"


@needs_shared
def test_teachable_edgetpu_inspect(capsys: pytest.CaptureFixture[str]) -> None:
    r = static(EDGETPU)
    assert edgetpu_note(1) in r.model["notes"]
    assert r.totals["coverage"]["uncounted_ops"] == {"edgetpu-custom-op": 1}
    assert r.model["inputs"][0] == {
        "name": "serving_default_sequential_1_input:0",
        "shape": [1, 3, 224, 224],
        "dtype": "uint8",
    }
    assert any("scale 0.00784314, zero point 127" in n for n in r.model["notes"])
    code, out, _ = run(capsys, "inspect", str(EDGETPU), "--no-cache")
    assert code == 0 and "Edge TPU model" in out


@needs_shared
def test_teachable_truncated_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "model.tflite"
    bad.write_bytes(QUANT.read_bytes()[:400_000])
    code, _, err = run(capsys, "inspect", str(bad), "--no-cache")
    assert code == 2 and "model.tflite is not a valid TFLite file" in err
    assert len(err.strip().splitlines()) == 1


@needs_shared
@pytest.mark.slow
def test_teachable_profile_on_litert() -> None:
    pytest.importorskip("ai_edge_litert")
    from zooprof import profile

    rows = {}
    for path in (UNQUANT, QUANT, EDGETPU):
        result = profile(str(path), runtime="tflite", max_time=0.5, use_cache=False)
        (rows[path.name],) = result.measurements
    for name in ("model_unquant.tflite", "model.tflite"):
        assert rows[name]["status"] == "ok" and rows[name]["timing"]["latency_ms"]["median"] > 0
    tpu = rows["model_edgetpu.tflite"]
    assert tpu["status"] == "failed" and "needs an Edge TPU and the libedgetpu delegate" in tpu["reason"]
