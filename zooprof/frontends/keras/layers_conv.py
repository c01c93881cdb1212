"""Layer handlers, convolutions and pooling: Conv1D-3D (grouped), DepthwiseConv,
SeparableConv (a depthwise and a pointwise layer), ConvTranspose, MaxPooling/AveragePooling
and their Global forms. `HANDLERS` maps each Keras class name to its handler."""

from __future__ import annotations

from typing import Any

from zooprof.errors import ModelShapeError
from zooprof.frontends.keras.builder import KTensor
from zooprof.frontends.keras.call import LayerCall, one_input
from zooprof.frontends.keras.shapes import axis_tuple, deconv_length, pad_attr, spatial_axes, window
from zooprof.ir.ops import OpKind


def _conv_geometry(
    c: LayerCall, inputs: list[KTensor]
) -> tuple[KTensor, list[int], int, tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """The input, its spatial axes and channel axis, and kernel, strides, dilation of a conv layer."""
    x = one_input(c, inputs)
    sp, ch = spatial_axes(len(x.shape), c.get("data_format"))
    n = len(sp)
    kernel = axis_tuple(c.get("kernel_size"), n, "kernel_size", c.shown)
    stride = axis_tuple(c.get("strides", 1), n, "strides", c.shown)
    dil = axis_tuple(c.get("dilation_rate", 1), n, "dilation_rate", c.shown)
    return x, sp, ch, kernel, stride, dil


def _conv(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x, sp, ch, kernel, stride, dil = _conv_geometry(c, inputs)
    n = len(sp)
    padding = str(c.get("padding", "valid")).lower()
    cin = x.shape[ch]
    depthwise = c.cls.startswith("DepthwiseConv")
    separable = c.cls.startswith(("SeparableConv", "SeparableConvolution"))
    if depthwise or separable:
        mult = int(c.get("depth_multiplier", 1))
        groups, cout = cin, cin * mult
    else:
        groups = int(c.get("groups", 1))
        cout = int(c.get("filters"))
        if cin % groups:
            raise ModelShapeError(f"Keras layer '{c.shown}': {cin} input channels do not split into {groups} groups")
    outs, pads = [], []
    for axis, k, s, d in zip(sp, kernel, stride, dil, strict=True):
        o, p = window(x.shape[axis], k, s, d, padding, c.shown)
        outs.append(o)
        pads.append(p)
    shape = list(x.shape)
    for axis, o in zip(sp, outs, strict=True):
        shape[axis] = o
    shape[ch] = cout
    use_bias = bool(c.get("use_bias", True))
    attrs = {
        "kernel": kernel,
        "stride": stride,
        "padding": pad_attr(pads),
        "dilation": dil,
        "groups": groups,
        "in_channels": cin,
        "out_channels": cout,
    }
    if separable:
        mid = c.emit(
            OpKind.CONV,
            [x],
            tuple(shape),
            {**attrs, "bias": False},
            [("depthwise_kernel", (*kernel, cin, mult), "trainable")],
            suffix="/depthwise",
            source_op=f"{c.cls} (depthwise)",
        )
        filters = int(c.get("filters"))
        shape2 = list(shape)
        shape2[ch] = filters
        params = [("pointwise_kernel", (*(1,) * n, cin * mult, filters), "trainable")]
        if use_bias:
            params.append(("bias", (filters,), "trainable"))
        y = c.emit(
            OpKind.CONV,
            [mid],
            tuple(shape2),
            {
                "kernel": (1,) * n,
                "stride": (1,) * n,
                "padding": (0,) * n,
                "dilation": (1,) * n,
                "groups": 1,
                "in_channels": cin * mult,
                "out_channels": filters,
                "bias": use_bias,
            },
            params,
            suffix="/pointwise",
            source_op=f"{c.cls} (pointwise)",
        )
        return c.activation(y, c.get("activation"))
    if depthwise:
        params = [("depthwise_kernel", (*kernel, cin, mult), "trainable")]
    else:
        params = [("kernel", (*kernel, cin // groups, cout), "trainable")]
    if use_bias:
        params.append(("bias", (cout,), "trainable"))
    y = c.emit(OpKind.CONV, [x], tuple(shape), {**attrs, "bias": use_bias}, params)
    return c.activation(y, c.get("activation"))


def _conv_transpose(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x, sp, ch, kernel, stride, dil = _conv_geometry(c, inputs)
    n = len(sp)
    out_pad = c.cfg.get("output_padding")
    out_pads = [None] * n if out_pad is None else list(axis_tuple(out_pad, n, "output_padding", c.shown))
    padding = str(c.get("padding", "valid")).lower()
    cin, cout = x.shape[ch], int(c.get("filters"))
    shape = list(x.shape)
    pads = []
    for axis, k, s, d, op in zip(sp, kernel, stride, dil, out_pads, strict=True):
        o = deconv_length(x.shape[axis], k, padding, op, s, d)
        shape[axis] = o
        total = max((x.shape[axis] - 1) * s + (k - 1) * d + 1 - o, 0)
        pads.append((total // 2, total - total // 2))
    shape[ch] = cout
    use_bias = bool(c.get("use_bias", True))
    params = [("kernel", (*kernel, cout, cin), "trainable")]
    if use_bias:
        params.append(("bias", (cout,), "trainable"))
    y = c.emit(
        OpKind.CONV_TRANSPOSE,
        [x],
        tuple(shape),
        {
            "kernel": kernel,
            "stride": stride,
            "padding": pad_attr(pads),
            "dilation": dil,
            "groups": 1,
            "in_channels": cin,
            "out_channels": cout,
            "bias": use_bias,
        },
        params,
    )
    return c.activation(y, c.get("activation"))


def _pool(op: OpKind) -> Any:
    def handler(c: LayerCall, inputs: list[KTensor]) -> KTensor:
        x = one_input(c, inputs)
        rank = len(x.shape)
        sp, _ = spatial_axes(rank, c.get("data_format"))
        n = len(sp)
        kernel = axis_tuple(c.get("pool_size", 2), n, "pool_size", c.shown)
        stride = axis_tuple(c.cfg.get("strides") or kernel, n, "strides", c.shown)
        padding = str(c.get("padding", "valid")).lower()
        shape = list(x.shape)
        pads = []
        for axis, k, s in zip(sp, kernel, stride, strict=True):
            o, p = window(x.shape[axis], k, s, 1, padding, c.shown)
            shape[axis] = o
            pads.append(p)
        attrs = {"kernel": kernel, "stride": stride, "padding": pad_attr(pads), "ceil_mode": False}
        if op is OpKind.AVGPOOL and padding == "same":
            attrs["count_include_pad"] = False
        return c.emit(op, [x], tuple(shape), attrs)

    return handler


def _global_pool(maximum: bool) -> Any:
    def handler(c: LayerCall, inputs: list[KTensor]) -> KTensor:
        x = one_input(c, inputs)
        rank = len(x.shape)
        sp, ch = spatial_axes(rank, c.get("data_format"))
        keep = bool(c.get("keepdims", False))
        kept = list(x.shape)
        for a in sp:
            kept[a] = 1
        squeezed = (x.shape[0], x.shape[ch])
        if not maximum:
            axes = [c.b.logical_axis(a, rank) for a in sp]
            return c.emit(OpKind.MEAN, [x], tuple(kept) if keep else squeezed, {"axis": axes, "keepdims": keep})
        y = c.emit(OpKind.ADAPTIVE_MAXPOOL, [x], tuple(kept), {"output_size": (1,) * len(sp)})
        if keep:
            return y
        return c.emit(
            OpKind.RESHAPE,
            [y],
            squeezed,
            {"shape": list(squeezed)},
            suffix="/squeeze",
            source_op=f"{c.cls} (drop the 1x1 axes)",
        )

    return handler


HANDLERS: dict[str, Any] = {
    "Conv1D": _conv,
    "Conv2D": _conv,
    "Conv3D": _conv,
    "Convolution1D": _conv,
    "Convolution2D": _conv,
    "Convolution3D": _conv,
    "DepthwiseConv1D": _conv,
    "DepthwiseConv2D": _conv,
    "SeparableConv1D": _conv,
    "SeparableConv2D": _conv,
    "SeparableConvolution1D": _conv,
    "SeparableConvolution2D": _conv,
    "Conv1DTranspose": _conv_transpose,
    "Conv2DTranspose": _conv_transpose,
    "Conv3DTranspose": _conv_transpose,
    "Convolution2DTranspose": _conv_transpose,
    "Deconvolution2D": _conv_transpose,
    "MaxPooling1D": _pool(OpKind.MAXPOOL),
    "MaxPooling2D": _pool(OpKind.MAXPOOL),
    "MaxPooling3D": _pool(OpKind.MAXPOOL),
    "MaxPool1D": _pool(OpKind.MAXPOOL),
    "MaxPool2D": _pool(OpKind.MAXPOOL),
    "MaxPool3D": _pool(OpKind.MAXPOOL),
    "AveragePooling1D": _pool(OpKind.AVGPOOL),
    "AveragePooling2D": _pool(OpKind.AVGPOOL),
    "AveragePooling3D": _pool(OpKind.AVGPOOL),
    "AvgPool1D": _pool(OpKind.AVGPOOL),
    "AvgPool2D": _pool(OpKind.AVGPOOL),
    "AvgPool3D": _pool(OpKind.AVGPOOL),
    "GlobalAveragePooling1D": _global_pool(False),
    "GlobalAveragePooling2D": _global_pool(False),
    "GlobalAveragePooling3D": _global_pool(False),
    "GlobalAvgPool1D": _global_pool(False),
    "GlobalAvgPool2D": _global_pool(False),
    "GlobalAvgPool3D": _global_pool(False),
    "GlobalMaxPooling1D": _global_pool(True),
    "GlobalMaxPooling2D": _global_pool(True),
    "GlobalMaxPooling3D": _global_pool(True),
    "GlobalMaxPool1D": _global_pool(True),
    "GlobalMaxPool2D": _global_pool(True),
    "GlobalMaxPool3D": _global_pool(True),
}
