"""Element-wise activations."""

from __future__ import annotations

from zooprof.ir.graph import Layer
from zooprof.ir.ops import OpKind
from zooprof.rules.base import GLOBAL, RF, Rule

#: FLOPs per output element, counting each compare, add, multiply, divide and
#: transcendental (exp, tanh, erf) as one.
ACTIVATION_FLOPS_PER_ELEMENT: dict[OpKind, int] = {
    OpKind.RELU: 1,  # max(x, 0)
    OpKind.RELU6: 2,  # min(max(x, 0), 6)
    OpKind.HARDTANH: 2,  # clamp
    OpKind.CLAMP: 1,  # one-sided clamp: max(x, lo) or min(x, hi)
    OpKind.LEAKY_RELU: 2,  # compare, multiply
    OpKind.ELU: 4,  # compare, exp, subtract, multiply
    OpKind.SIGMOID: 4,  # negate, exp, add, divide
    OpKind.TANH: 1,  # one transcendental
    OpKind.HARDSIGMOID: 3,  # add 3, divide by 6, clamp
    OpKind.HARDSWISH: 4,  # hardsigmoid + multiply
    OpKind.SILU: 5,  # sigmoid + multiply
    OpKind.GELU: 5,  # divide, erf, add, multiply, multiply
    OpKind.ERF: 1,  # one transcendental, as tanh (GELU's five FLOPs include it)
    OpKind.SOFTMAX: 4,  # subtract max, exp, sum, divide
}


class ActivationRule(Rule):
    """Per-element cost from ACTIVATION_FLOPS_PER_ELEMENT; no MACs.

    Softmax along a spatial axis makes every output depend on the whole axis: global RF.
    """

    kinds = frozenset(ACTIVATION_FLOPS_PER_ELEMENT)

    def expected_shape(self, layer: Layer) -> tuple[int, ...]:
        return layer.inputs[0].shape

    def flops(self, layer: Layer) -> int:
        return ACTIVATION_FLOPS_PER_ELEMENT[layer.op] * layer.output.numel

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        rank = len(layer.inputs[0].shape)
        axis = layer.attrs.get("axis")
        if layer.op is OpKind.SOFTMAX and axis is not None and rank > 2 and int(axis) % rank >= 2:
            return GLOBAL if inputs[0].known else inputs[0]
        return inputs[0]
