"""ONNX frontend, costs that differ from PyTorch's reading: Erf and the exported GELU, ops that
copy where PyTorch has views (activation bytes, liveness peak), the constant folder's state
across rounds, Einsum, ReduceL2 and unary math, and (slow) vit_b_16 and maxvit_t exported to ONNX
against FlopCounterMode and torchvision's `_ops`."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")
import numpy as np  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from torch import nn  # noqa: E402

from zooprof.analysis import analyze  # noqa: E402
from zooprof.frontends.onnx import infer as onnx_infer  # noqa: E402
from zooprof.frontends.onnx.read import read_onnx  # noqa: E402
from zooprof.ir.ops import COPIES_ATTR, OpKind  # noqa: E402
from zooprof.rules.activation import ACTIVATION_FLOPS_PER_ELEMENT  # noqa: E402

F = TensorProto.FLOAT


def save(nodes: list, inputs: list, outputs: list, inits: list, path: Path) -> Path:
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return path


def i64(name: str, value: object) -> TensorProto:
    return numpy_helper.from_array(np.array(value, dtype=np.int64), name)


def export(model: nn.Module, shape: tuple[int, ...], path: Path) -> Path:
    """torch.onnx.export with the TorchScript-based exporter (dynamo=False), opset 17, eval mode."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation warnings
        torch.onnx.export(model.eval(), (torch.zeros(shape),), str(path), dynamo=False, opset_version=17)
    return path


# --------------------------------------------------------------------------------------
# Erf and the exported GELU


def test_erf_is_an_element_wise_activation(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", F, [1, 3, 5, 7])
    y = helper.make_tensor_value_info("y", F, None)
    path = save([helper.make_node("Erf", ["x"], ["y"], name="erf")], [x], [y], [], tmp_path / "erf.onnx")
    graph, _ = read_onnx(path, None)
    (erf,) = graph.layers
    assert erf.op is OpKind.ERF and erf.source_op == "Erf"
    a = analyze(graph)
    row = a.layers[0]
    assert row["counted"] and row["macs"] == 0
    assert row["flops"] == 1 * 3 * 5 * 7  # one transcendental per element, as tanh
    assert row["rf"]["size"] == 1  # element-wise: the input's own field, one pixel
    assert a.totals["coverage"]["percent"] == 100.0


def test_exported_gelu_costs_what_gelu_costs(tmp_path: Path) -> None:
    """The TorchScript exporter (opset 17) writes nn.GELU as x * 0.5 * (1 + erf(x / sqrt 2)):
    Div, Erf, Add, Mul, Mul. One FLOP each per element makes 5, GELU's count in the PyTorch
    read (docs/counting.md), so the pattern's FLOPs equal the GELU layer's."""
    model = nn.Sequential(nn.Linear(8, 16), nn.GELU())
    graph, _ = read_onnx(export(model, (1, 4, 8), tmp_path / "gelu.onnx"), None)
    a = analyze(graph)
    gelu = [r for r in a.layers if r["scope"] == "1"]  # the layers of module "1", the nn.GELU
    assert [r["source_op"] for r in gelu] == ["Div", "Erf", "Add", "Mul", "Mul"]
    elements = 1 * 4 * 16
    assert all(r["counted"] and r["output_shape"] == [1, 4, 16] for r in gelu)
    assert sum(r["flops"] for r in gelu) == 5 * elements == ACTIVATION_FLOPS_PER_ELEMENT[OpKind.GELU] * elements
    assert a.totals["coverage"]["percent"] == 100.0
    # the whole model: dense 2 x MACs, + 1 per output for the bias (a separate Add in ONNX), + GELU 5
    macs = elements * 8
    assert a.totals["macs"] == macs
    assert a.totals["flops"] == 2 * macs + elements + 5 * elements


# --------------------------------------------------------------------------------------
# Einsum (maxvit_t), ReduceL2 (swin_v2's cosine attention) and unary math


def test_einsum_reducel2_and_unary_math(tmp_path: Path) -> None:
    """By hand: 'bhid,bhjd->bhij' on 2x3x5x4 and 2x3x6x4 is b x h x i x d x j = 720 MACs, the same
    with '...' for b, h; a 3-operand einsum is uncounted with its reason; ReduceL2 over the last
    axis of 2x3x5x4 is 2 per input (square, add) + 1 per output (root): 270; Neg, Sqrt 1 per
    element, ReduceProd 1 multiply per input element."""
    q, k = helper.make_tensor_value_info("q", F, [2, 3, 5, 4]), helper.make_tensor_value_info("k", F, [2, 3, 6, 4])
    nodes = [
        helper.make_node("Einsum", ["q", "k"], ["s"], equation="bhid,bhjd->bhij", name="scores"),
        helper.make_node("Einsum", ["q", "k"], ["e"], equation="...id,...jd->...ij", name="ellipsis"),
        helper.make_node("Einsum", ["q", "q", "k"], ["three"], equation="bhid,bhid,bhjd->bhij", name="three"),
        helper.make_node("ReduceL2", ["q"], ["norm"], axes=[-1], keepdims=1, name="l2"),
        helper.make_node("Neg", ["q"], ["neg"], name="neg"),
        helper.make_node("Sqrt", ["neg"], ["root"], name="sqrt"),
        helper.make_node("ReduceProd", ["root"], ["prod"], axes=[1], keepdims=0, name="prod"),
    ]
    outputs = [helper.make_tensor_value_info(n, F, None) for n in ("s", "e", "three", "norm", "prod")]
    graph, _ = read_onnx(save(nodes, [q, k], outputs, [], tmp_path / "einsum.onnx"), None)
    rows = {r["name"]: r for r in analyze(graph).layers}
    assert rows["scores"]["op"] == rows["ellipsis"]["op"] == "einsum"
    assert rows["scores"]["macs"] == rows["ellipsis"]["macs"] == 2 * 3 * 5 * 4 * 6
    assert rows["scores"]["flops"] == 2 * 720 and rows["scores"]["output_shape"] == [2, 3, 5, 6]
    assert rows["ellipsis"]["formula"][0].startswith("01id,01jd->01ij: 0=2 1=3 i=5 d=4 j=6")
    assert not rows["three"]["counted"] and "contraction order" in str(graph.layers[2].attrs["unmapped"])
    assert (rows["l2"]["op"], rows["l2"]["flops"]) == ("vector_norm", 2 * 120 + 30)
    assert [(rows[n]["op"], rows[n]["flops"]) for n in ("neg", "sqrt", "prod")] == [
        ("neg", 120),
        ("sqrt", 120),
        ("prod", 120),
    ]


# --------------------------------------------------------------------------------------
# ops that copy in ONNX (views in PyTorch)


def copy_chain(path: Path) -> Path:
    """x 1x4x8x16 -> Transpose -> Expand -> Tile -> GatherND -> Slice -> Reshape -> Relu, float32."""
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1], name="transpose"),
        helper.make_node("Expand", ["t", "shape"], ["e"], name="expand"),
        helper.make_node("Tile", ["e", "repeats"], ["r"], name="tile"),
        helper.make_node("GatherND", ["r", "indices"], ["g"], name="gathernd"),
        helper.make_node("Slice", ["g", "starts", "ends", "axes"], ["s"], name="slice"),
        helper.make_node("Reshape", ["s", "flat"], ["f"], name="reshape"),
        helper.make_node("Relu", ["f"], ["y"], name="relu"),
    ]
    inits = [
        i64("shape", [3, 8, 16, 4]),
        i64("repeats", [1, 1, 1, 2]),
        i64("indices", [[0], [2]]),
        i64("starts", [0]),
        i64("ends", [4]),
        i64("axes", [3]),
        i64("flat", [2, 512]),
    ]
    x = helper.make_tensor_value_info("x", F, [1, 4, 8, 16])
    return save(nodes, [x], [helper.make_tensor_value_info("y", F, None)], inits, path)


def test_onnx_ops_that_copy_allocate(tmp_path: Path) -> None:
    path = copy_chain(tmp_path / "copies.onnx")
    graph, _ = read_onnx(path, None)
    layers = {layer.name: layer for layer in graph.layers}
    for name in ("transpose", "expand", "gathernd", "slice"):  # view kinds that copy in ONNX
        assert layers[name].attrs.get(COPIES_ATTR) is True, name
    assert COPIES_ATTR not in layers["reshape"].attrs  # onnxruntime runs Reshape as a view
    assert layers["tile"].op is OpKind.COPY

    a = analyze(graph)
    written = {r["name"]: r["activation_bytes"] for r in a.layers}
    # by hand, float32: t 1x8x16x4, e 3x8x16x4, r 3x8x16x8, g 2x8x16x8, s 2x8x16x4, f (view), y 2x512
    sizes = {"transpose": 2048, "expand": 6144, "tile": 12288, "gathernd": 8192, "slice": 4096, "reshape": 0}
    assert written == {**sizes, "relu": 4096}
    # liveness: each layer holds its input and output; s lives on through its reshaped view
    assert [r["live_bytes"] for r in a.layers] == [
        2048 + 2048,
        2048 + 6144,
        6144 + 12288,
        12288 + 8192,
        8192 + 4096,
        4096,
        4096 + 4096,
    ]
    assert a.totals["peak_activation_bytes"] == 20480 and a.totals["peak_activation_layer"] == "gathernd"

    # the same sizes as onnxruntime's outputs, where it is installed
    ort = pytest.importorskip("onnxruntime")
    m = onnx.load(str(path))
    m.graph.output.extend(helper.make_empty_tensor_value_info(n) for n in "tergs")
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    values = sess.run(list("tergs"), {"x": np.zeros((1, 4, 8, 16), np.float32)})
    measured = dict(zip(("transpose", "expand", "tile", "gathernd", "slice"), (v.nbytes for v in values), strict=True))
    assert measured == {k: v for k, v in sizes.items() if k != "reshape"}


# --------------------------------------------------------------------------------------
# constant folding: each initialiser converted once, one evaluator per node signature


def test_constant_folder_converts_once_and_shares_evaluators(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three Unsqueeze nodes of one signature share one evaluator; a Constant holding a tensor
    needs none; the second round converts no initialiser again and does not retry the node
    whose result is too large to keep."""
    nodes = [
        helper.make_node("Unsqueeze", [a, "axes"], [f"u{a}"]) for a in ("a", "b", "c")
    ] + [  # 1 x 5000 values: over SMALL_TENSOR, never folded
        helper.make_node("Expand", ["a", "big"], ["wide"]),
        helper.make_node("Shape", ["x"], ["sx"]),
        helper.make_node("Constant", [], ["k1"], value=numpy_helper.from_array(np.array([7, 8], np.int64))),
        helper.make_node("Constant", [], ["k2"], value_ints=[7, 8]),  # run by the reference evaluator
    ]
    inits = [i64("a", [1]), i64("b", [2]), i64("c", [3]), i64("axes", [0]), i64("big", [5000, 1])]
    sk = helper.make_model(
        helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", F, [2, 3])], [], inits),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    converted: list[str] = []
    real = numpy_helper.to_array
    monkeypatch.setattr(numpy_helper, "to_array", lambda t, *a, **k: converted.append(t.name) or real(t, *a, **k))
    folder = onnx_infer.ConstantFolder(sk, sk.opset_import)
    assert sorted(converted) == ["a", "axes", "b", "big", "c"]
    info = {"x": ((2, 3), F)}
    assert folder.fold(info) == 6  # ua, ub, uc, sx, k1, k2
    assert {k: folder.vals[k].tolist() for k in ("ua", "ub", "uc", "sx", "k1", "k2")} == {
        "ua": [[1]],
        "ub": [[2]],
        "uc": [[3]],
        "sx": [2, 3],
        "k1": [7, 8],
        "k2": [7, 8],
    }
    assert folder.vals["k1"].dtype == folder.vals["k2"].dtype == np.int64
    assert len(folder.evaluators) == 3  # Unsqueeze (shared by three nodes), Expand, Constant(value_ints)
    assert folder.tried == {("wide",)}
    built = len(folder.evaluators)
    assert folder.fold(info) == 0  # nothing new; the Expand is not evaluated again
    assert len(folder.evaluators) == built
    assert sorted(n for n in converted if n) == ["a", "axes", "b", "big", "c"]  # (k1's tensor has no name)
    assert [n.op_type for n in sk.graph.node] == ["Expand"]


# --------------------------------------------------------------------------------------
# vit_b_16 exported to ONNX


@pytest.mark.slow
def test_vit_b_16_onnx_macs_match_flop_counter_and_torchvision(tmp_path: Path) -> None:
    """Attention exported as MatMul/Softmax nodes is counted: the ONNX read equals
    FlopCounterMode on a real forward (math attention kernel; grad enabled, so
    nn.MultiheadAttention takes the scaled_dot_product_attention path FlopCounterMode costs)
    and torchvision's `_ops` (GMACs, rounded to 3 decimals)."""
    torchvision = pytest.importorskip("torchvision")
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    model = torchvision.models.vit_b_16(weights=None).eval()
    counter = FlopCounterMode(display=False)
    with sdpa_kernel(SDPBackend.MATH), counter:
        model(torch.randn(1, 3, 224, 224))
    reference = counter.get_total_flops() // 2
    path = export(model, (1, 3, 224, 224), tmp_path / "vit_b_16.onnx")
    del model

    graph, _ = read_onnx(path, None)
    a = analyze(graph)
    assert a.totals["coverage"]["percent"] == 100.0, a.totals["coverage"]
    assert a.totals["macs"] == reference == 17_563_828_224
    ops = torchvision.models.get_model_weights("vit_b_16").DEFAULT.meta["_ops"]
    assert abs(a.totals["macs"] / 1e9 - ops) < 0.0005
    assert a.totals["shape_mismatches"] == 0


@pytest.mark.slow
def test_maxvit_t_onnx_einsum_counted(tmp_path: Path) -> None:
    """maxvit_t's relative-position einsums are counted: the ONNX read equals FlopCounterMode on a
    real forward (math attention kernel) and torchvision's `_ops` (GMACs, 3 decimals); before the
    Einsum rule it was 5,381,025,792 (-3.2 %) at 96 % coverage."""
    torchvision = pytest.importorskip("torchvision")
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    model = torchvision.models.maxvit_t(weights=None).eval()
    counter = FlopCounterMode(display=False)
    with sdpa_kernel(SDPBackend.MATH), counter:
        model(torch.randn(1, 3, 224, 224))
    reference = counter.get_total_flops() // 2
    path = export(model, (1, 3, 224, 224), tmp_path / "maxvit_t.onnx")
    del model
    a = analyze(read_onnx(path, None)[0])
    assert a.totals["coverage"]["percent"] == 100.0, a.totals["coverage"]
    assert a.totals["macs"] == reference == 5_558_046_720
    ops = torchvision.models.get_model_weights("maxvit_t").DEFAULT.meta["_ops"]
    assert abs(a.totals["macs"] / 1e9 - ops) < 0.0005
