"""Resampling of the spatial axes: interpolation to a new size (the detection transform, FPN
top-down paths) and sampling at positions a tensor gives (grid_sample: RAFT's correlation lookup,
spatial transformers)."""

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
        return _unknown_from_here(rf)


class GridSampleRule(Rule):
    """`grid_sample` / ONNX GridSample: input (N, C, H, W) sampled at the (x, y) positions of a grid
    (N, H_out, W_out, 2), output (N, C, H_out, W_out). No MACs; FLOPs per output element as a
    resize of the same mode (bilinear: 4 neighbours weighed, 7), the grid's unnormalising and the
    weights (per output position, shared by the channels) not counted, as a resize's weights are not.

    The positions are data: the receptive field is unknown from here on (never a guess).
    """

    kinds = frozenset({OpKind.GRID_SAMPLE})

    def expected_shape(self, layer: Layer) -> tuple[int, ...] | None:
        if len(layer.inputs) < 2:
            return None
        image, grid = layer.inputs[0].shape, layer.inputs[1].shape
        return (*image[:2], *grid[1:-1])

    def flops(self, layer: Layer) -> int:
        return RESIZE_FLOPS_PER_ELEMENT[str(layer.attrs.get("mode", "bilinear"))] * layer.output.numel

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        return _unknown_from_here(inputs[0] if inputs else RF())


def _unknown_from_here(rf: RF) -> RF:
    """After a resampling whose positions are not on the integer grid: unknown; a field that does
    not apply (a tensor fed by constants only) stays as it is."""
    return RF(known=False) if rf.applicable or not rf.known else rf
