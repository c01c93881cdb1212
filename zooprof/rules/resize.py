"""Resampling of the spatial axes (interpolation): the detection transform, FPN top-down paths."""

from __future__ import annotations

from zooprof.ir.graph import Layer
from zooprof.ir.ops import OpKind
from zooprof.rules.base import RF, Rule

#: FLOPs per output element by interpolation mode. Nearest copies one input value. Bilinear
#: weighs the 4 neighbours: 4 multiplies + 3 adds, with the weights computed once per row and
#: per column (not counted). Frontends map other modes (bicubic, area) to UNKNOWN.
RESIZE_FLOPS_PER_ELEMENT: dict[str, int] = {"nearest": 0, "bilinear": 7}


class ResizeRule(Rule):
    """No MACs; FLOPs per output element by mode.

    At the same size the receptive field passes through; a change of scale gives output
    positions a fractional step on the input grid, which the integer receptive-field
    arithmetic cannot express: unknown from there on (never a guess).
    """

    kinds = frozenset({OpKind.RESIZE})

    def flops(self, layer: Layer) -> int:
        return RESIZE_FLOPS_PER_ELEMENT[str(layer.attrs.get("mode", "nearest"))] * layer.output.numel

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        rf = inputs[0] if inputs else RF()
        if layer.inputs and layer.inputs[0].spatial == layer.output.spatial:
            return rf
        return RF(known=False) if rf.applicable or not rf.known else rf
