"""Reductions (mean, sum, product, vector norm) over some axes."""

from __future__ import annotations

from zooprof.ir.graph import Layer
from zooprof.ir.ops import OpKind
from zooprof.rules.base import GLOBAL, RF, Rule


class ReduceRule(Rule):
    """One add (sum, mean) or multiply (prod) per input element, plus one divide per output for
    mean. A vector (L2) norm: a multiply and an add per input element, a square root per output.

    A reduction over every spatial axis is global pooling: RF = whole input.
    """

    kinds = frozenset({OpKind.MEAN, OpKind.SUM, OpKind.PROD, OpKind.VECTOR_NORM})

    def flops(self, layer: Layer) -> int:
        if layer.op is OpKind.VECTOR_NORM:
            return 2 * layer.inputs[0].numel + layer.output.numel
        extra = layer.output.numel if layer.op is OpKind.MEAN else 0
        return layer.inputs[0].numel + extra

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        rank = len(layer.inputs[0].shape)
        axes = layer.attrs.get("axis")
        if axes is None:
            return GLOBAL if inputs[0].known else inputs[0]
        axes = {int(a) % rank for a in (axes if isinstance(axes, (list, tuple)) else [axes])}
        if rank > 2 and set(range(2, rank)) <= axes and inputs[0].known and inputs[0].applicable:
            return GLOBAL
        return inputs[0]
