"""Fully-connected layers and matrix products."""

from __future__ import annotations

from zooprof.ir.graph import Layer
from zooprof.ir.ops import OpKind
from zooprof.rules.base import GLOBAL, RF, Rule


class DenseRule(Rule):
    """MACs = output elements x input features. FLOPs = 2 x MACs + one add per output if biased.

    On a flattened feature map (a rank-2 input) every output sees the whole input, so the
    receptive field becomes global; on a rank > 2 input (tokens, NHWC-style channels-last
    dense) it acts per position and the field passes through.
    """

    kinds = frozenset({OpKind.DENSE})

    def expected_shape(self, layer: Layer) -> tuple[int, ...]:
        return (*layer.inputs[0].shape[:-1], int(layer.attrs["out_features"]))

    def macs(self, layer: Layer) -> int:
        return layer.output.numel * int(layer.attrs["in_features"])

    def flops(self, layer: Layer) -> int:
        return 2 * self.macs(layer) + (layer.output.numel if layer.attrs.get("bias") else 0)

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        rf = inputs[0]
        if len(layer.inputs[0].shape) <= 2 and rf.known and rf.applicable:
            return GLOBAL
        return rf


class MatmulRule(Rule):
    """a (..., n, k) @ b (..., k, m): MACs = output elements x k. FLOPs = 2 x MACs.

    `k` comes from the attributes where the frontend gives it (the first operand may be a
    weight, which is not a layer input); `bias` (baddbmm: + input) adds 1 FLOP per output,
    and `alpha`/`beta` other than 1 one multiply per output each.
    """

    kinds = frozenset({OpKind.MATMUL})

    def macs(self, layer: Layer) -> int:
        k = int(layer.attrs["k"]) if "k" in layer.attrs else layer.inputs[0].shape[-1]
        return layer.output.numel * k

    def flops(self, layer: Layer) -> int:
        a = layer.attrs
        per_output = int(bool(a.get("bias"))) + sum(1 for key in ("alpha", "beta") if a.get(key, 1) != 1)
        return 2 * self.macs(layer) + per_output * layer.output.numel

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        if any(not r.known for r in inputs):
            return RF(known=False)
        return GLOBAL if any(r.applicable for r in inputs) else RF()
