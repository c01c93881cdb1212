"""Analysis passes never raise on a graph shape they do not expect: a layer fed only by buffers or
constants has an RF of "none" and keeps its params and MACs; a rule that raises on one layer
costs that layer that one figure (unknown), with a note, and the rest of the result stays."""

from __future__ import annotations

from tests.conftest import graph, layer, t
from zooprof.analysis import analyze, rf_to_dict
from zooprof.ir.graph import ParamSpec
from zooprof.ir.ops import OpKind
from zooprof.result.columns import rf_text


def test_layer_with_no_graph_input_has_rf_none_and_keeps_its_cost() -> None:
    # Swin V2's position-bias MLP: Linear(2 -> 8) on a (1, 15, 15, 2) buffer, added to the scores
    x = t("x", 1, 3, 16, 16)
    conv, table, bias, out = (
        t("conv", 1, 8, 16, 16),
        t("mlp", 1, 15, 15, 8),
        t("bias", 1, 8, 16, 16),
        t("out", 1, 8, 16, 16),
    )
    w = ParamSpec("mlp.weight", (8, 2), "float32", "trainable")
    buf = ParamSpec("table", (1, 15, 15, 2), "float32", "buffer")
    cw = ParamSpec("conv.weight", (8, 3, 3, 3), "float32", "trainable")
    layers = [
        layer(
            "conv",
            OpKind.CONV,
            [x],
            conv,
            (cw,),
            kernel=(3, 3),
            stride=(1, 1),
            padding=(1, 1),
            in_channels=3,
            out_channels=8,
            groups=1,
        ),
        layer("mlp", OpKind.DENSE, [], table, (w, buf), in_features=2, out_features=8),  # fed by the buffer only
        layer("bias", OpKind.RELU, [table], bias),  # derived from the constant: still none
        layer("out", OpKind.ADD, [conv, bias], out),  # the constant widens nothing
    ]
    a = analyze(graph([x], layers))
    rows = {r["name"]: r for r in a.layers}
    assert rows["mlp"]["rf"] == {"size": "none", "stride": None, "padding": None, "aligned": True, "exact": True}
    assert rows["bias"]["rf"]["size"] == "none"
    assert rows["out"]["rf"] == rows["conv"]["rf"] and rows["conv"]["rf"]["size"] == 3
    assert rows["mlp"]["macs"] == 15 * 15 * 2 * 8  # hand: output positions x in_features x out_features
    assert rows["mlp"]["params"] == 16 and rows["mlp"]["buffers"] == 450
    assert rows["mlp"]["counted"] and "shape_mismatch" not in rows["mlp"]
    assert a.notes == []
    assert rf_text(rows["mlp"]) == "none"


def test_conv_fed_by_a_constant_grid_counts_its_macs() -> None:
    # RAFT's first flow encoder conv: its input (coordinate grids) is no graph tensor
    x = t("x", 1, 3, 8, 8)
    y, z = t("y", 1, 4, 8, 8), t("z", 1, 4, 8, 8)
    cw = ParamSpec("c.weight", (4, 2, 7, 7), "float32", "trainable")
    layers = [
        layer(
            "c",
            OpKind.CONV,
            [],
            y,
            (cw,),
            kernel=(7, 7),
            stride=(1, 1),
            padding=(3, 3),
            in_channels=2,
            out_channels=4,
            groups=1,
        ),
        layer("z", OpKind.RELU, [y], z),
    ]
    a = analyze(graph([x], layers))
    assert a.layers[0]["rf"]["size"] == "none" and a.layers[0]["macs"] == 4 * 8 * 8 * 2 * 7 * 7
    assert a.layers[0]["params"] == 4 * 2 * 7 * 7 and a.totals["coverage"]["percent"] == 100.0


def test_a_rule_that_raises_costs_one_figure_of_one_layer() -> None:
    x = t("x", 1, 3, 8, 8)
    good, bad, out = t("good", 1, 4, 8, 8), t("bad", 1, 4, 8, 8), t("out", 1, 4, 8, 8)
    cw = ParamSpec("good.weight", (4, 3, 1, 1), "float32", "trainable")
    bw = ParamSpec("bad.weight", (4, 4, 1, 1), "float32", "trainable")
    layers = [
        layer("good", OpKind.CONV, [x], good, (cw,), kernel=(1, 1), in_channels=3, out_channels=4),
        layer("bad", OpKind.CONV, [good], bad, (bw,), in_channels=4, out_channels=4),  # no kernel: KeyError in rules
        layer("out", OpKind.RELU, [bad], out),
    ]
    a = analyze(graph([x], layers))
    rows = {r["name"]: r for r in a.layers}
    assert rows["good"]["macs"] == 4 * 64 * 3 and rows["good"]["rf"]["size"] == 1
    assert rows["bad"]["rf"]["size"] == "unknown" and rows["out"]["rf"]["size"] == "unknown"
    assert not rows["bad"]["counted"] and rows["bad"]["macs"] == 0
    assert rows["bad"]["params"] == 16  # params need no rule: kept
    assert a.totals["macs"] == 4 * 64 * 3 and a.totals["coverage"]["counted_layers"] == 2
    assert any(n.startswith("receptive field unknown for 1 layer(s): bad (conv) (KeyError") for n in a.notes)
    assert any(n.startswith("MACs/FLOPs unknown for 1 layer(s): bad (conv)") for n in a.notes)


def test_rf_none_json_and_text_differ_from_not_applicable() -> None:
    from zooprof.rules.base import NO_INPUT, NOT_APPLICABLE

    assert rf_to_dict(NOT_APPLICABLE) is None
    assert rf_to_dict(NO_INPUT)["size"] == "none"  # type: ignore[index]
    assert rf_text({"rf": None}) == "–"
