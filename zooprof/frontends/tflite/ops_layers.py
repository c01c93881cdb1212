"""TFLite op rules for the layers with weights or windows: CONV_2D, DEPTHWISE_CONV_2D,
TRANSPOSE_CONV, the 2-D pools, FULLY_CONNECTED, BATCH_MATMUL and LOCAL_RESPONSE_NORMALIZATION.

Each rule takes an OpView (shapes in file order, NHWC; weights OHWI, depthwise 1HWC) and
returns (OpKind, attributes) in the rules' vocabulary (zooprof/rules/): geometry in H, W
order, padding as per-axis ints when symmetric, else (before, after) pairs. A rule raises
ValueError (or an indexing error) when it cannot read the op; zooprof.frontends.tflite.ops.map_op
turns that into OpKind.UNKNOWN. The option field indices follow schema.fbs.
"""

from __future__ import annotations

from collections.abc import Callable

from zooprof.frontends.tflite.opview import PADDING_NAMES, Attrs, Mapped, OpView, window_padding
from zooprof.ir.ops import OpKind


def conv(view: OpView) -> Mapped:
    x, w = view.shape(0), view.shape(1)  # x NHWC, w OHWI
    stride = (view.opt_int(2, 1) or 1, view.opt_int(1, 1) or 1)
    dilation = (view.opt_int(5, 1) or 1, view.opt_int(4, 1) or 1)
    kernel = (int(w[1]), int(w[2]))
    mode = view.opt_byte(0)
    cin = int(x[3])
    attrs: Attrs = {
        "kernel": kernel,
        "stride": stride,
        "dilation": dilation,
        "padding": window_padding(view, kernel, stride, dilation, mode),
        "padding_mode": PADDING_NAMES.get(mode, str(mode)),
        "in_channels": cin,
        "out_channels": int(w[0]),
        "groups": max(cin // max(int(w[3]), 1), 1),
        "bias": view.has(2),
    }
    return OpKind.CONV, attrs


def depthwise(view: OpView) -> Mapped:
    x, w = view.shape(0), view.shape(1)  # w 1, H, W, C*multiplier
    stride = (view.opt_int(2, 1) or 1, view.opt_int(1, 1) or 1)
    dilation = (view.opt_int(6, 1) or 1, view.opt_int(5, 1) or 1)
    kernel = (int(w[1]), int(w[2]))
    mode = view.opt_byte(0)
    cin, cout = int(x[3]), int(w[3])
    attrs: Attrs = {
        "kernel": kernel,
        "stride": stride,
        "dilation": dilation,
        "padding": window_padding(view, kernel, stride, dilation, mode),
        "padding_mode": PADDING_NAMES.get(mode, str(mode)),
        "in_channels": cin,
        "out_channels": cout,
        "groups": cin,
        "depth_multiplier": cout // cin if cin else 1,
        "bias": view.has(2),
    }
    return OpKind.CONV, attrs


def transpose_conv(view: OpView) -> Mapped:
    w = view.shape(1)  # O, H, W, I
    x = view.shape(2)
    stride = (view.opt_int(2, 1) or 1, view.opt_int(1, 1) or 1)
    mode = view.opt_byte(0)
    return OpKind.CONV_TRANSPOSE, {
        "kernel": (int(w[1]), int(w[2])),
        "stride": stride,
        "padding_mode": PADDING_NAMES.get(mode, str(mode)),
        "in_channels": int(x[3]),
        "out_channels": int(w[0]),
        "groups": 1,
        "bias": view.has(3),
    }


def pool(kind: OpKind) -> Callable[[OpView], Mapped]:
    def f(view: OpView) -> Mapped:
        stride = (view.opt_int(2, 1) or 1, view.opt_int(1, 1) or 1)
        kernel = (view.opt_int(4, 1) or 1, view.opt_int(3, 1) or 1)
        mode = view.opt_byte(0)
        return kind, {
            "kernel": kernel,
            "stride": stride,
            "padding": window_padding(view, kernel, stride, (1, 1), mode),
            "padding_mode": PADDING_NAMES.get(mode, str(mode)),
        }

    return f


def dense(view: OpView) -> Mapped:
    w = view.shape(1)  # out, in
    attrs: Attrs = {"in_features": int(w[-1]), "out_features": int(w[0]), "bias": view.has(2)}
    if view.opt_bool(2):
        attrs["keep_num_dims"] = True
    return OpKind.DENSE, attrs


def lrn(view: OpView) -> Mapped:
    return OpKind.LRN, {
        "size": 2 * view.opt_int(0) + 1,
        "bias": view.opt_float(1),
        "alpha": view.opt_float(2),
        "beta": view.opt_float(3),
    }


def matmul(view: OpView) -> Mapped:
    attrs: Attrs = {}
    if view.opt_bool(0):
        attrs["adj_x"] = True
    if view.opt_bool(1):
        attrs["adj_y"] = True
    if attrs.get("adj_x"):
        raise ValueError("BATCH_MATMUL with adj_x: the matmul rule reads k from the last axis of input 0")
    return OpKind.MATMUL, attrs
