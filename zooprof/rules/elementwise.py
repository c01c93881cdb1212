"""Binary element-wise ops (residual add, gating multiply, ...): where paths meet."""

from __future__ import annotations

from zooprof.ir.graph import Layer
from zooprof.ir.ops import OpKind
from zooprof.rules.base import RF, Rule, merge_rf


class ElementwiseRule(Rule):
    """One FLOP per output element; receptive field by the multi-path alignment rule."""

    kinds = frozenset({OpKind.ADD, OpKind.SUB, OpKind.MUL, OpKind.DIV})

    def flops(self, layer: Layer) -> int:
        return layer.output.numel

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        return merge_rf(layer, inputs) if len(inputs) > 1 else inputs[0]
