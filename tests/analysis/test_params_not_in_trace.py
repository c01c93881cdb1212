"""Totals of stored tensors = per-layer sums + `params_not_in_trace` (tensors no layer uses), and
where those sit, on a small graph with hand-counted answers."""

from __future__ import annotations

from tests.conftest import graph, layer, t
from zooprof.analysis import analyze
from zooprof.analysis.params import params_not_in_trace
from zooprof.ir.graph import Graph, ParamSpec
from zooprof.ir.ops import OpKind


def with_unused() -> Graph:
    x, y = t("x", 1, 4), t("y", 1, 2)
    used = ParamSpec("a.0.weight", (2, 4))
    fc = layer("a.0", OpKind.DENSE, [x], y, params=(used,), in_features=4, out_features=2, bias=False)
    g = graph([x], [fc])
    unused = (
        ParamSpec("a.1.weight", (5,)),  # a.0 is used, so the sibling is named on its own: "a.1"
        ParamSpec("head.fc.weight", (10, 4)),  # nothing under "head" is used: named "head"
        ParamSpec("head.fc.bias", (10,)),
        ParamSpec("head.bn.running_mean", (3,), kind="buffer"),
        ParamSpec("frozen", (6,), "float16", kind="non_trainable"),
    )
    return Graph(g.name, g.framework, g.inputs, g.layers, g.outputs, params_not_in_trace=unused)


def test_params_not_in_trace_counts_and_places() -> None:
    out = params_not_in_trace(with_unused())
    assert out == {
        "params": 5 + 40 + 10 + 6,
        "trainable_params": 55,
        "non_trainable_params": 6,
        "buffers": 3,
        "weight_bytes": 4 * (5 + 50 + 3) + 2 * 6,
        "modules": [
            {"name": "head", "params": 50, "buffers": 3},
            {"name": "frozen", "params": 6, "buffers": 0},
            {"name": "a.1", "params": 5, "buffers": 0},
        ],
    }


def test_totals_are_layers_plus_what_no_layer_uses() -> None:
    a = analyze(with_unused())
    assert a.layers[0]["params"] == 8
    assert a.totals["params"] == 8 + 61 and a.totals["trainable_params"] == 8 + 55
    assert a.totals["non_trainable_params"] == 6 and a.totals["buffers"] == 3
    assert a.totals["weight_bytes"] == 32 + 244
    assert a.totals["params_not_in_trace"]["params"] == 61


def test_no_key_when_every_tensor_is_in_a_layer() -> None:
    g = with_unused()
    g = Graph(g.name, g.framework, g.inputs, g.layers, g.outputs)
    assert params_not_in_trace(g) is None and "params_not_in_trace" not in analyze(g).totals
