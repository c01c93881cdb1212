"""Element-wise arithmetic: binary ops where paths meet (residual add, gating multiply, ...) and
the unary math ops a converter writes a normalisation with (negate, square root, reciprocal
square root)."""

from __future__ import annotations

from zooprof.ir.graph import Layer
from zooprof.ir.ops import OpKind
from zooprof.rules.base import RF, Rule, merge_rf

#: FLOPs per output element, counting each add, subtract, multiply, divide and square root as
#: one (as the activations count a transcendental as one).
ELEMENTWISE_FLOPS_PER_ELEMENT: dict[OpKind, int] = {
    OpKind.ADD: 1,
    OpKind.SUB: 1,
    OpKind.MUL: 1,
    OpKind.DIV: 1,
    OpKind.SQUARED_DIFFERENCE: 2,  # subtract, multiply
    OpKind.NEG: 1,
    OpKind.SQRT: 1,
    OpKind.RSQRT: 1,  # one op, as sqrt or a reciprocal
}


class ElementwiseRule(Rule):
    """FLOPs per output element from ELEMENTWISE_FLOPS_PER_ELEMENT; receptive field by the
    multi-path alignment rule (unchanged through a unary op)."""

    kinds = frozenset(ELEMENTWISE_FLOPS_PER_ELEMENT)

    def flops(self, layer: Layer) -> int:
        return ELEMENTWISE_FLOPS_PER_ELEMENT[layer.op] * layer.output.numel

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        return merge_rf(layer, inputs) if len(inputs) > 1 else inputs[0]
