"""Receptive field of every layer's output, following tensors through the graph."""

from __future__ import annotations

from zooprof.analysis.guard import Problems
from zooprof.ir.graph import Graph
from zooprof.rules import RF, RULES
from zooprof.rules.base import NO_INPUT, UNKNOWN_RF


def analyze_receptive_field(graph: Graph, problems: Problems | None = None) -> list[RF]:
    """RF (size, effective stride, effective padding per spatial axis) of each layer's output,
    in input pixels. Graph inputs start at size 1, stride 1, padding 0 per spatial axis, and so
    does the output of a layer marked `rf_origin` (a new pixel grid: a detector's resized and
    batched images, in whose pixels its receptive fields are given).

    A layer with no graph input (fed only by buffers or constants) or whose inputs are all
    such constants sees no input pixel: its RF is "none" (`RF.constant`). A rule that raises
    on a layer makes that layer's RF unknown (and notes it in `problems`)."""
    problems = problems or Problems()
    field: dict[str, RF] = {t.name: RF.for_input(len(t.spatial)) for t in graph.inputs}
    out = []
    for layer in graph.layers:
        inputs = [field.get(t.name, RF(known=False)) for t in layer.inputs]
        if all(r.constant for r in inputs):  # also true with no graph input at all
            rf = NO_INPUT
        else:
            rf = problems.layer("receptive field", layer, UNKNOWN_RF, RULES.get(layer.op).rf, layer, inputs)
        if layer.attrs.get("rf_origin"):
            rf = RF.for_input(len(layer.output.spatial))
        for t in layer.outputs:
            field[t.name] = rf
        out.append(rf)
    return out
