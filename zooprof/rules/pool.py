"""Pooling: fixed windows (max, average) and adaptive windows (global when the output is 1)."""

from __future__ import annotations

from math import prod

from zooprof.ir.graph import Layer
from zooprof.ir.ops import OpKind
from zooprof.rules.base import GLOBAL, RF, Rule, window_rf
from zooprof.rules.conv import WindowRule


class PoolRule(WindowRule):
    """Max pool: kernel area - 1 comparisons per output. Avg pool: kernel area - 1 adds + 1 divide.

    No MACs (pooling multiplies nothing by a weight).
    """

    kinds = frozenset({OpKind.MAXPOOL, OpKind.AVGPOOL})

    def expected_shape(self, layer: Layer) -> tuple[int, ...]:
        n, c = layer.inputs[0].shape[:2]
        return (n, c, *self._out_spatial(layer))

    def flops(self, layer: Layer) -> int:
        kernel, *_ = self._geometry(layer)
        per_output = prod(kernel) - 1 if layer.op is OpKind.MAXPOOL else prod(kernel)
        return layer.output.numel * per_output


def adaptive_windows(size: int, out: int) -> tuple[int, int, bool]:
    """(largest window, stride, uniform?) of PyTorch adaptive pooling from `size` to `out`."""
    starts = [(i * size) // out for i in range(out)]
    ends = [-(-((i + 1) * size) // out) for i in range(out)]
    widths = [e - s for s, e in zip(starts, ends, strict=True)]
    steps = {b - a for a, b in zip(starts, starts[1:], strict=False)}
    uniform = len(set(widths)) == 1 and len(steps) <= 1
    stride = steps.pop() if len(steps) == 1 else max(1, size // out)
    return max(widths), stride, uniform


class AdaptivePoolRule(Rule):
    """Adaptive pooling. Average: one add per input element plus one divide per output.
    Max: one comparison per input element. Output 1 x 1 is global pooling: RF = whole input.
    """

    kinds = frozenset({OpKind.ADAPTIVE_AVGPOOL, OpKind.ADAPTIVE_MAXPOOL})

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        in_sp, out_sp = layer.inputs[0].spatial, layer.output.spatial
        if out_sp and all(d == 1 for d in out_sp) and inputs[0].applicable:
            return GLOBAL
        geometry = [adaptive_windows(i, o) for i, o in zip(in_sp, out_sp, strict=True)]
        rf = window_rf(
            inputs[0], tuple(g[0] for g in geometry), tuple(g[1] for g in geometry), tuple(0 for _ in geometry)
        )
        if all(g[2] for g in geometry):
            return rf
        return RF(rf.axes, rf.is_global, rf.known, rf.aligned, exact=False)

    def flops(self, layer: Layer) -> int:
        extra = layer.output.numel if layer.op is OpKind.ADAPTIVE_AVGPOOL else 0
        return layer.inputs[0].numel + extra
