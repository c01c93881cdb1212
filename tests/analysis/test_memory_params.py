"""Liveness-based peak memory and parameter splitting on small graphs with known answers."""

from __future__ import annotations

from tests.conftest import graph, layer, t
from zooprof.analysis import analyze
from zooprof.analysis.memory import analyze_memory
from zooprof.analysis.params import analyze_params
from zooprof.ir.graph import ParamSpec
from zooprof.ir.ops import COPIES_ATTR, OpKind


def test_peak_memory_chain_frees_dead_tensors() -> None:
    # x(400 B) -> a(800 B) -> b(400 B) -> c(40 B): each step holds its input and output
    x = t("x", 1, 100)
    a, b, c = t("a", 1, 200), t("b", 1, 100), t("c", 1, 10)
    g = graph([x], [layer("a", OpKind.RELU, [x], a), layer("b", OpKind.RELU, [a], b), layer("c", OpKind.RELU, [b], c)])
    m = analyze_memory(g)
    assert m.live_bytes == [1200, 1200, 440]
    assert m.peak_bytes == 1200 and m.peak_layer == "a"
    assert m.activation_bytes == [800, 400, 40]


def test_residual_keeps_skip_tensor_alive() -> None:
    x = t("x", 1, 100)  # 400 B, read again by the add
    a, b, s = t("a", 1, 100), t("b", 1, 100), t("s", 1, 100)
    g = graph(
        [x], [layer("a", OpKind.RELU, [x], a), layer("b", OpKind.RELU, [a], b), layer("s", OpKind.ADD, [b, x], s)]
    )
    m = analyze_memory(g)
    assert m.live_bytes == [800, 1200, 1200]


def test_views_and_inplace_share_the_buffer() -> None:
    x = t("x", 1, 4, 5, 5)  # 400 B
    r = t("r", 1, 4, 5, 5)
    f = t("f", 1, 100)
    g = graph([x], [layer("r", OpKind.RELU, [x], r, inplace=True), layer("f", OpKind.FLATTEN, [r], f)])
    m = analyze_memory(g)
    assert m.activation_bytes == [0, 0]
    assert m.peak_bytes == 400


def test_a_view_kind_marked_as_a_copy_gets_its_own_buffer() -> None:
    # x (400 B) -> permute -> relu: a PyTorch permute is a view of x; an ONNX Transpose
    # (COPIES_ATTR) writes 400 B of its own, live together with x while it runs
    x, p, r = t("x", 1, 4, 5, 5), t("p", 1, 5, 5, 4), t("r", 1, 5, 5, 4)
    view = graph([x], [layer("p", OpKind.PERMUTE, [x], p), layer("r", OpKind.RELU, [p], r)], ["r"])
    copy = graph(
        [x], [layer("p", OpKind.PERMUTE, [x], p, **{COPIES_ATTR: True}), layer("r", OpKind.RELU, [p], r)], ["r"]
    )
    assert analyze_memory(view).activation_bytes == [0, 400]
    assert analyze_memory(view).live_bytes == [400, 800]
    m = analyze_memory(copy)
    assert m.activation_bytes == [400, 400]
    assert m.live_bytes == [800, 800]  # x + its transposed copy; then the copy + relu's output


def test_params_split_and_shared_counted_once() -> None:
    w = ParamSpec("fc.weight", (10, 10), kind="trainable")
    bias = ParamSpec("fc.bias", (10,), kind="non_trainable")
    rm = ParamSpec("bn.running_mean", (10,), kind="buffer")
    x = t("x", 1, 10)
    y1, y2 = t("y1", 1, 10), t("y2", 1, 10)
    g = graph(
        [x],
        [
            layer("fc", OpKind.DENSE, [x], y1, params=(w, bias, rm), in_features=10, out_features=10, bias=True),
            layer("fc_1", OpKind.DENSE, [y1], y2, params=(w, bias), in_features=10, out_features=10, bias=True),
        ],
    )
    p = analyze_params(g)
    assert (p[0].trainable, p[0].non_trainable, p[0].buffers) == (100, 10, 10)
    assert p[0].weight_bytes == 120 * 4
    assert p[1].params == 0 and set(p[1].shared) == {"fc.weight", "fc.bias"}
    totals = analyze(g).totals
    assert totals["params"] == 110 and totals["trainable_params"] == 100 and totals["buffers"] == 10


def test_unknown_op_lowers_coverage_and_is_listed() -> None:
    x = t("x", 1, 8, 4, 4)
    y, z = t("y", 1, 8, 4, 4), t("z", 1, 8, 4, 4)
    unknown = layer("weird", OpKind.UNKNOWN, [x], y)
    g = graph([x], [unknown, layer("r", OpKind.RELU, [y], z)])
    totals = analyze(g).totals
    cov = totals["coverage"]
    assert cov["counted_layers"] == 1 and cov["layers"] == 2 and cov["percent"] == 50.0
    assert cov["uncounted_ops"] == {"unknown": 1}
    rows = analyze(g).layers
    assert rows[0]["counted"] is False and rows[0]["rf"]["size"] == "unknown"
    assert rows[1]["rf"]["size"] == "unknown"  # unknown propagates, never guessed
