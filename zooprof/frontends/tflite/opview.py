"""What the TFLite op mapping sees of one operator (`OpView`), and the helpers every rule shares.

An `OpView` holds an operator's name, its options table (anything with `scalar` and `ints`,
the `Options` protocol: a zooprof.frontends.tflite.flatbuffer.Table, or NO_OPTIONS), its
input and output shapes in file order (NHWC) and the values of its small constant inputs;
the rules in ops_layers.py and ops_tensor.py never see bytes. Shared here: which input is
an op's data input (DATA_INPUT), NHWC axis -> logical axis, and TensorFlow's SAME padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from zooprof.ir.ops import OpKind

Attrs = dict[str, Any]
Mapped = tuple[OpKind, Attrs]
Shape = tuple[int, ...]

#: ops whose data input is not input 0
DATA_INPUT: dict[str, int] = {"TRANSPOSE_CONV": 2, "SPLIT": 1}

#: NHWC axis -> logical (N, C, H, W) axis
NHWC_TO_LOGICAL = (0, 2, 3, 1)


class Options(Protocol):
    """An operator's options table (zooprof.frontends.tflite.flatbuffer.Table)."""

    def scalar(self, index: int, fmt: str, default: Any) -> Any: ...

    def ints(self, index: int) -> list[int] | None: ...


class _NoOptions:
    def scalar(self, index: int, fmt: str, default: Any) -> Any:
        return default

    def ints(self, index: int) -> list[int] | None:
        return None


NO_OPTIONS = _NoOptions()


@dataclass
class OpView:
    """What the mapping sees of one operator: shapes in file order (NHWC), small constant values."""

    name: str
    options: Options
    in_shapes: list[Shape | None]  # None for an absent optional input (-1)
    in_values: list[list[Any] | None]  # values of small constant inputs
    out_shapes: list[Shape]
    image_in: bool = False  # the data input is an NHWC image
    image_out: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def opt_int(self, index: int, default: int = 0) -> int:
        return int(self.options.scalar(index, "<i", default))

    def opt_byte(self, index: int, default: int = 0) -> int:
        return int(self.options.scalar(index, "<b", default))

    def opt_bool(self, index: int, default: bool = False) -> bool:
        return bool(self.options.scalar(index, "<B", int(default)))

    def opt_float(self, index: int, default: float = 0.0) -> float:
        return float(self.options.scalar(index, "<f", default))

    def has(self, i: int) -> bool:
        return i < len(self.in_shapes) and self.in_shapes[i] is not None

    def shape(self, i: int) -> Shape:
        s = self.in_shapes[i] if i < len(self.in_shapes) else None
        if s is None:
            raise ValueError(f"input {i} is missing")
        return s

    def value(self, i: int) -> list[Any] | None:
        return self.in_values[i] if i < len(self.in_values) else None


def same_pads(size: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """TensorFlow's SAME padding: out = ceil(in / s); the extra row/column goes after."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def window_padding(
    view: OpView, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int], mode: int
) -> Any:
    """Explicit padding for SAME (0) / VALID (1): per-axis ints if symmetric, else (before, after) pairs."""
    if mode != 0:
        return (0,) * len(kernel)
    spatial = view.shape(DATA_INPUT.get(view.name, 0))[1:-1]
    pairs = tuple(same_pads(i, k, s, d) for i, k, s, d in zip(spatial, kernel, stride, dilation, strict=True))
    if all(a == b for a, b in pairs):
        return tuple(a for a, _ in pairs)
    return pairs


def logical_axis(axis: int, rank: int, image: bool) -> int:
    """An axis of a file-order tensor -> the logical axis (NHWC images: C first)."""
    a = axis % rank if rank else axis
    return NHWC_TO_LOGICAL[a] if image and rank == 4 else a


PADDING_NAMES = {0: "SAME", 1: "VALID"}
