"""Normalisation layers (inference mode)."""

from __future__ import annotations

from zooprof.ir.graph import Layer
from zooprof.ir.ops import OpKind
from zooprof.rules.base import Rule

#: FLOPs per element. Batch norm at inference folds into one scale and one shift per
#: element. Layer/group/instance norm compute statistics at run time: mean (1 add),
#: variance (subtract, square, add: 3), normalise (subtract, divide: 2), affine (2) = 8.
NORM_FLOPS_PER_ELEMENT: dict[OpKind, int] = {
    OpKind.BATCHNORM: 2,
    OpKind.LAYERNORM: 8,
    OpKind.GROUPNORM: 8,
    OpKind.INSTANCENORM: 8,
}


class NormRule(Rule):
    """Per-element cost from NORM_FLOPS_PER_ELEMENT; no MACs; receptive field unchanged."""

    kinds = frozenset(NORM_FLOPS_PER_ELEMENT)

    def expected_shape(self, layer: Layer) -> tuple[int, ...]:
        return layer.inputs[0].shape

    def flops(self, layer: Layer) -> int:
        return NORM_FLOPS_PER_ELEMENT[layer.op] * layer.output.numel


class LRNRule(Rule):
    """Local response normalisation across `size` channels (AlexNet 2012).

    Per element: square (1), sum over the window (size - 1 adds), scale and bias (2),
    power (1), divide (1) = size + 4 FLOPs.
    """

    kinds = frozenset({OpKind.LRN})

    def expected_shape(self, layer: Layer) -> tuple[int, ...]:
        return layer.inputs[0].shape

    def flops(self, layer: Layer) -> int:
        return (int(layer.attrs.get("size", 5)) + 4) * layer.output.numel
