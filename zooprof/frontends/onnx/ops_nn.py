"""ONNX op mappers for the layers with weights or windows: conv, conv transpose, gemm / matmul, einsum,
pools, normalisations and activations (`NodeView -> (OpKind, attrs)`, see ops_view.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zooprof.frontends.onnx.ops_view import Attrs, Mapped, NodeView, ints, spatial_rank
from zooprof.ir.einsum import einsum_attrs
from zooprof.ir.ops import OpKind


def _explicit_pads(
    n: NodeView, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(begin, end) pads per spatial axis, with auto_pad SAME_UPPER / SAME_LOWER / VALID made explicit.

    SAME_*: output = ceil(input / stride); the total padding needed for that output is split
    evenly, the odd pixel at the end (SAME_UPPER, TensorFlow's 'SAME') or at the start (SAME_LOWER).
    """
    r = len(kernel)
    auto = n.attr("auto_pad", "NOTSET")
    if isinstance(auto, bytes):
        auto = auto.decode()
    if auto == "VALID":
        return (0,) * r, (0,) * r
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        x = n.shape(0)
        if x is None:
            raise ValueError("auto_pad needs the input shape")
        begin, end = [], []
        for size, k, s, d in zip(x[2:], kernel, stride, dilation, strict=True):
            out = -(-size // s)
            total = max(0, (out - 1) * s + d * (k - 1) + 1 - size)
            small, large = total // 2, total - total // 2
            begin.append(small if auto == "SAME_UPPER" else large)
            end.append(large if auto == "SAME_UPPER" else small)
        return tuple(begin), tuple(end)
    pads = ints(n.attr("pads", (0,) * (2 * r)))
    return pads[:r], pads[r:]


def padding_attr(begin: tuple[int, ...], end: tuple[int, ...]) -> Any:
    """Symmetric ints per axis when begin == end on every axis, else (before, after) pairs."""
    if begin == end:
        return tuple(begin)
    return tuple((b, e) for b, e in zip(begin, end, strict=True))


def _window(n: NodeView, kernel: tuple[int, ...]) -> Attrs:
    r = len(kernel)
    stride = ints(n.attr("strides", (1,) * r))
    dilation = ints(n.attr("dilations", (1,) * r))
    begin, end = _explicit_pads(n, kernel, stride, dilation)
    attrs: Attrs = {"kernel": kernel, "stride": stride, "padding": padding_attr(begin, end), "dilation": dilation}
    auto = n.attr("auto_pad", "NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto != "NOTSET":
        attrs["auto_pad"] = auto
    return attrs


def map_conv(n: NodeView) -> Mapped:
    w = n.shape(1)
    if w is None:
        raise ValueError("Conv weight shape unknown")
    group = int(n.attr("group", 1))
    kernel = ints(n.attr("kernel_shape", w[2:]))
    attrs = _window(n, kernel)
    attrs.update(groups=group, in_channels=int(w[1]) * group, out_channels=int(w[0]), bias=n.has(2))
    return OpKind.CONV, attrs


def map_conv_transpose(n: NodeView) -> Mapped:
    w = n.shape(1)
    if w is None:
        raise ValueError("ConvTranspose weight shape unknown")
    group = int(n.attr("group", 1))
    kernel = ints(n.attr("kernel_shape", w[2:]))
    r = len(kernel)
    stride = ints(n.attr("strides", (1,) * r))
    dilation = ints(n.attr("dilations", (1,) * r))
    pads = ints(n.attr("pads", (0,) * (2 * r)))
    attrs: Attrs = {
        "kernel": kernel,
        "stride": stride,
        "padding": padding_attr(pads[:r], pads[r:]),
        "dilation": dilation,
        "groups": group,
        "in_channels": int(w[0]),
        "out_channels": int(w[1]) * group,
        "bias": n.has(2),
    }
    if n.attr("output_padding") is not None:
        attrs["output_padding"] = ints(n.attr("output_padding"))
    auto = n.attr("auto_pad", "NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto != "NOTSET":
        attrs["auto_pad"] = auto
    return OpKind.CONV_TRANSPOSE, attrs


def map_gemm(n: NodeView) -> Mapped:
    """Y = alpha * A' B' + beta * C. A constant B is a fully-connected layer (weights), else a matmul."""
    b = n.shape(1)
    trans_a, trans_b = int(n.attr("transA", 0)), int(n.attr("transB", 0))
    if not (len(n.const) > 1 and n.const[1]):
        return OpKind.MATMUL, {"transA": trans_a, "transB": trans_b}
    if b is None or len(b) != 2:
        raise ValueError("Gemm B shape unknown")
    in_f, out_f = (b[1], b[0]) if trans_b else (b[0], b[1])
    attrs: Attrs = {"in_features": int(in_f), "out_features": int(out_f), "bias": n.has(2)}
    if trans_a:
        attrs["transA"] = 1
    return OpKind.DENSE, attrs


def map_matmul(n: NodeView) -> Mapped:
    b = n.shape(1)
    if len(n.const) > 1 and n.const[1] and not n.const[0] and b is not None and len(b) == 2:
        return OpKind.DENSE, {"in_features": int(b[0]), "out_features": int(b[1]), "bias": False}
    return OpKind.MATMUL, {}


def map_einsum(n: NodeView) -> Mapped:
    """Einsum(equation) on two operands: the einsum rule's attributes (zooprof.ir.einsum)."""
    equation = n.attr("equation", "")
    if isinstance(equation, bytes):
        equation = equation.decode()
    shapes = [n.shape(i) for i in range(len(n.inputs))]
    if any(s is None for s in shapes):
        raise ValueError("einsum operand shapes are unknown")
    attrs = einsum_attrs(str(equation), [s for s in shapes if s is not None])
    if isinstance(attrs, str):
        raise ValueError(attrs)
    return OpKind.EINSUM, attrs


def map_pool(kind: OpKind) -> Callable[[NodeView], Mapped]:
    def f(n: NodeView) -> Mapped:
        kernel = ints(n.attr("kernel_shape"))
        attrs = _window(n, kernel)
        attrs["ceil_mode"] = bool(n.attr("ceil_mode", 0))
        if kind is OpKind.AVGPOOL:
            attrs.pop("dilation")
            attrs["count_include_pad"] = bool(n.attr("count_include_pad", 0))
        return kind, attrs

    return f


def map_global_pool(kind: OpKind) -> Callable[[NodeView], Mapped]:
    return lambda n: (kind, {"output_size": (1,) * spatial_rank(n)})


def map_clip(n: NodeView) -> Mapped:
    if n.opset >= 11:
        lo = n.value(1)[0] if n.has(1) and n.value(1) else None
        hi = n.value(2)[0] if n.has(2) and n.value(2) else None
        unknown = (n.has(1) and lo is None) or (n.has(2) and hi is None)
    else:
        lo, hi, unknown = n.attr("min"), n.attr("max"), False
    if not unknown and lo is not None and float(lo) == 0.0 and hi is not None and float(hi) == 6.0:
        return OpKind.RELU6, {}
    if not unknown and lo is not None and float(lo) == 0.0 and hi is None:
        return OpKind.RELU, {"clip": True}
    return OpKind.HARDTANH, {"min": None if lo is None else float(lo), "max": None if hi is None else float(hi)}


def map_softmax(n: NodeView) -> Mapped:
    return OpKind.SOFTMAX, {"axis": int(n.attr("axis", -1 if n.opset >= 13 else 1))}


def map_batchnorm(n: NodeView) -> Mapped:
    attrs: Attrs = {"eps": float(n.attr("epsilon", 1e-5))}
    if n.attr("training_mode"):
        attrs["training_mode"] = True
    return OpKind.BATCHNORM, attrs


def map_layernorm(n: NodeView) -> Mapped:
    axis = int(n.attr("axis", -1))
    x = n.shape(0)
    attrs: Attrs = {"axis": axis, "eps": float(n.attr("epsilon", 1e-5))}
    if x is not None:
        attrs["normalized_shape"] = tuple(x[axis:])
    return OpKind.LAYERNORM, attrs


def map_lrn(n: NodeView) -> Mapped:
    return OpKind.LRN, {
        "size": int(n.attr("size", 5)),
        "alpha": float(n.attr("alpha", 1e-4)),
        "beta": float(n.attr("beta", 0.75)),
        "k": float(n.attr("bias", 1.0)),
    }
