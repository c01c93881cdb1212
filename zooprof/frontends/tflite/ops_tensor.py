"""TFLite op rules for tensor and element-wise ops: activations and arithmetic (one `simple`
factory), SOFTMAX, CONCATENATION, reductions (MEAN, SUM, REDUCE_PROD), the pads, reshapes, TRANSPOSE and
dtype conversions (QUANTIZE, DEQUANTIZE, CAST).

Each rule takes an OpView and returns (OpKind, attributes); axes are given in the logical
N, C, spatial order when the tensor is an NHWC image, paddings on the spatial axes only, as
the other frontends give them. A rule raises ValueError when it cannot read the op (e.g.
reduction axes that are not a constant); zooprof.frontends.tflite.ops.map_op turns that into
OpKind.UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zooprof.frontends.tflite.opview import Attrs, Mapped, OpView, logical_axis
from zooprof.ir.ops import OpKind


def softmax(view: OpView) -> Mapped:
    rank = len(view.shape(0))
    return OpKind.SOFTMAX, {"axis": logical_axis(-1, rank, view.image_in), "beta": view.opt_float(0, 1.0)}


def concat(view: OpView) -> Mapped:
    rank = len(view.out_shapes[0])
    return OpKind.CONCAT, {"axis": logical_axis(view.opt_int(0), rank, view.image_out)}


def reduction(kind: OpKind) -> Callable[[OpView], Mapped]:
    def f(view: OpView) -> Mapped:
        rank = len(view.shape(0))
        axes = view.value(1)
        if axes is None:
            raise ValueError("reduction axes are not a constant")
        logical = tuple(sorted({logical_axis(int(a), rank, view.image_in) for a in axes}))
        return kind, {"axis": logical, "keepdims": view.opt_bool(0)}

    return f


def pad(view: OpView) -> Mapped:
    x = view.shape(0)
    flat = view.value(1)
    attrs: Attrs = {"mode": "constant"}
    if view.name == "MIRROR_PAD":
        attrs["mode"] = "reflect" if view.opt_byte(0) == 0 else "symmetric"
    if flat is None or len(flat) != 2 * len(x):
        return OpKind.PAD, attrs
    pairs = [(int(flat[2 * i]), int(flat[2 * i + 1])) for i in range(len(x))]
    if view.image_in and len(x) == 4:
        pairs = [pairs[0], pairs[3], pairs[1], pairs[2]]  # N, C, H, W
    if len(pairs) > 2 and pairs[0] == (0, 0) and pairs[1] == (0, 0):
        pairs = pairs[2:]  # spatial axes only, as the other frontends
    attrs["padding"] = tuple(pairs)
    return OpKind.PAD, attrs


def reshape(view: OpView) -> Mapped:
    return OpKind.RESHAPE, {"shape": tuple(int(d) for d in view.out_shapes[0])}


def transpose(view: OpView) -> Mapped:
    perm = view.value(1)
    return OpKind.PERMUTE, (
        {"perm": tuple(int(p) for p in perm), "perm_layout": "file (NHWC)"} if perm is not None else {}
    )


def convert(view: OpView) -> Mapped:
    return OpKind.COPY, {"from": view.extra.get("in_dtype"), "to": view.extra.get("out_dtype")}


def simple(kind: OpKind, **fixed: Any) -> Callable[[OpView], Mapped]:
    return lambda view: (kind, dict(fixed))
