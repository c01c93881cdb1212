"""What an ONNX op mapper sees of a node (`NodeView`), and the helpers every mapper family shares.

The op mapping (ops.py, with the mappers in ops_nn.py and ops_tensor.py) knows no ONNX
protos: the reader (build.py) fills a `NodeView` with everything a mapper may need:
attributes, the shapes of the node's inputs (activations and initialisers alike), and the
values of small constant inputs (Clip bounds, reduction axes, pad widths).

Contract of a mapper: `NodeView -> (OpKind, attrs)`; it raises ValueError (or TypeError,
IndexError, KeyError, ZeroDivisionError) when the node cannot be mapped, which `map_node`
turns into OpKind.UNKNOWN. The conventions of the attributes are those of the PyTorch
frontend (frontends/torch/ops.py), so the rules in zooprof/rules/ read both the same way: `kernel`,
`stride`, `dilation` are tuples over the spatial axes; `padding` is a tuple of ints when
every axis pads symmetrically, else a tuple of (before, after) pairs; `groups`,
`in_channels`, `out_channels`, `bias`; `axis`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zooprof.ir.ops import OpKind

Attrs = dict[str, Any]
Mapped = tuple[OpKind, Attrs]
Shape = tuple[int, ...]


@dataclass
class NodeView:
    """What a mapper sees of one node.

    `shapes[i]` is the shape of input i (None when unknown or the input is absent);
    `values[i]` the value of input i as a flat list when it is a small constant, else None;
    `const[i]` whether input i is a constant (initialiser, Constant node or computed from
    shapes only); `out_shape` the shape of output 0.
    """

    op_type: str
    attrs: dict[str, Any]
    inputs: list[str]
    shapes: list[Shape | None]
    values: list[list[Any] | None]
    const: list[bool]
    out_shape: Shape | None
    opset: int
    notes: list[str] = field(default_factory=list)

    def attr(self, name: str, default: Any = None) -> Any:
        return self.attrs.get(name, default)

    def has(self, i: int) -> bool:
        return len(self.inputs) > i and self.inputs[i] != ""

    def shape(self, i: int) -> Shape | None:
        return self.shapes[i] if len(self.shapes) > i else None

    def value(self, i: int) -> list[Any] | None:
        return self.values[i] if len(self.values) > i else None


def ints(v: Any) -> tuple[int, ...]:
    return tuple(int(x) for x in v)


def spatial_rank(n: NodeView) -> int:
    x = n.shape(0)
    if x is not None:
        return max(len(x) - 2, 0)
    w = n.shape(1)
    if w is not None:
        return max(len(w) - 2, 0)
    return len(n.attr("kernel_shape", ()))


def simple(kind: OpKind, **fixed: Any) -> Callable[[NodeView], Mapped]:
    return lambda n: (kind, dict(fixed))


def with_attrs(kind: OpKind, **names: str) -> Callable[[NodeView], Mapped]:
    """Copy ONNX attributes to zooprof attribute names ({zooprof_name: onnx_name})."""

    def f(n: NodeView) -> Mapped:
        return kind, {ours: n.attr(theirs) for ours, theirs in names.items() if n.attr(theirs) is not None}

    return f
