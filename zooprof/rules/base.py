"""The interface every op rule follows, and the receptive-field record rules pass along.

A rule covers one op family. Given a Layer (whose shapes come from the frontend) it:

- `expected_shape(layer)`: recomputes the output shape from the attributes where the op has
  a closed form (conv, pool), or None; a mismatch is reported, never silently accepted;
- `explain(layer)`: the formula behind each spatial output size, as the course slide writes it;
- `rf(layer, inputs)`: the receptive field of the output, given the inputs' fields;
- `macs(layer)` and `flops(layer)`: the counts under the conventions of docs/counting.md.

Rules never print and never see framework objects.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import prod

from zooprof.ir.graph import Layer
from zooprof.ir.ops import OpKind


@dataclass(frozen=True)
class AxisRF:
    """Receptive field along one spatial axis: size, effective stride, effective padding."""

    size: int
    stride: int
    padding: int

    def centre(self) -> float:
        """Input coordinate of the centre of output feature 0 (google-research/receptive_field)."""
        return -self.padding + (self.size - 1) / 2


@dataclass(frozen=True)
class RF:
    """Receptive field of a tensor.

    `axes` holds one AxisRF per spatial axis. `is_global` means every output sees the whole
    input. No axes and not global means "not applicable" (the input had no spatial axes).
    `known` is False after an op without a rule; `aligned` is False where paths with
    different strides or centres meet; `exact` is False where the step is an approximation
    (adaptive pooling with a window that does not divide the input). `constant` means the
    tensor depends on no graph input at all (computed from buffers or constants, like Swin V2's
    position-bias MLP or RAFT's coordinate grids): it sees no input pixel, its RF is "none".
    """

    axes: tuple[AxisRF, ...] = ()
    is_global: bool = False
    known: bool = True
    aligned: bool = True
    exact: bool = True
    constant: bool = False

    @staticmethod
    def for_input(spatial_rank: int) -> RF:
        return RF(axes=tuple(AxisRF(1, 1, 0) for _ in range(spatial_rank)))

    @property
    def applicable(self) -> bool:
        return self.is_global or bool(self.axes)

    def to_global(self) -> RF:
        return replace(self, axes=(), is_global=True)


GLOBAL = RF(is_global=True)
NOT_APPLICABLE = RF()
UNKNOWN_RF = RF(known=False)
NO_INPUT = RF(constant=True)


def window_rf(
    rf_in: RF,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    pad_lo: tuple[int, ...],
    dilation: tuple[int, ...] | None = None,
) -> RF:
    """One sliding-window step (conv or pool) applied to the receptive field."""
    if not rf_in.known or rf_in.is_global or not rf_in.axes:
        return rf_in
    dil = dilation or tuple(1 for _ in kernel)
    if len(rf_in.axes) != len(kernel):
        return UNKNOWN_RF
    axes = tuple(
        AxisRF(a.size + (d * (k - 1)) * a.stride, a.stride * s, a.padding + p * a.stride)
        for a, k, s, p, d in zip(rf_in.axes, kernel, stride, pad_lo, dil, strict=True)
    )
    return replace(rf_in, axes=axes)


def merge_rf(layer: Layer, inputs: list[RF]) -> RF:
    """Where paths meet (add, mul, concat): the multi-path alignment rule.

    Inputs broadcast along the spatial axes (size 1 where the output is larger, e.g. a
    squeeze-and-excitation gate) carry channel context, not a spatial path, and are left out;
    so are constants (RF "none"), which see no input pixel.
    The remaining paths must have equal effective strides and equal feature centres, else
    the result is marked not aligned; the largest RF per axis is kept.
    """
    out_spatial = layer.output.spatial
    if inputs and all(rf.constant for rf in inputs):
        return NO_INPUT
    pairs = [(spec, rf) for spec, rf in zip(layer.inputs, inputs, strict=False) if not rf.constant]
    inputs = [rf for rf in inputs if not rf.constant]
    paths: list[RF] = []
    for spec, rf in pairs:
        broadcast = bool(out_spatial) and spec.spatial != out_spatial and all(d == 1 for d in spec.spatial)
        if not broadcast:
            paths.append(rf)
    if not paths:
        paths = inputs
    if any(not p.known for p in paths):
        return UNKNOWN_RF
    spatial = [p for p in paths if p.axes]
    if not spatial:
        return GLOBAL if any(p.is_global for p in paths) else NOT_APPLICABLE
    if any(p.is_global for p in paths):
        return GLOBAL
    aligned = all(p.aligned for p in paths)
    exact = all(p.exact for p in paths)
    ref = spatial[0]
    axes = []
    for i in range(len(ref.axes)):
        per = [p.axes[i] for p in spatial if len(p.axes) > i]
        if len({a.stride for a in per}) > 1 or len({a.centre() for a in per}) > 1:
            aligned = False
        axes.append(max(per, key=lambda a: a.size))
    return RF(axes=tuple(axes), aligned=aligned, exact=exact)


class Rule:
    """Default behaviour: shape-preserving, receptive field passed through, zero cost."""

    kinds: frozenset[OpKind] = frozenset()
    counted: bool = True

    def expected_shape(self, layer: Layer) -> tuple[int, ...] | None:
        return None

    def explain(self, layer: Layer) -> list[str]:
        return []

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        return inputs[0] if inputs else NOT_APPLICABLE

    def macs(self, layer: Layer) -> int:
        return 0

    def flops(self, layer: Layer) -> int:
        return 0


def as_tuple(value: int | tuple[int, ...] | list[int], n: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    t = tuple(value)
    return t * n if len(t) == 1 and n > 1 else t


def pads(layer: Layer, n: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(before, after) padding per spatial axis; `padding` may be symmetric ints or pairs."""
    raw = layer.attrs.get("padding", 0)
    if isinstance(raw, (list, tuple)) and raw and isinstance(raw[0], (list, tuple)):
        return tuple(int(p[0]) for p in raw), tuple(int(p[1]) for p in raw)
    p = as_tuple(raw, n)
    return p, p


def out_numel(layer: Layer) -> int:
    return sum(prod(t.shape) for t in layer.outputs)
