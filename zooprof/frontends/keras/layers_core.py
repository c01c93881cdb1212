"""Layer handlers, the core layers: Dense (a 1x1 conv on a rank > 2 input), the
normalisations (BatchNormalization with its moving statistics as non-trainable weights,
LayerNormalization, GroupNormalization, the Normalization and Rescaling preprocessing
layers) and the activation layers (ReLU, Activation, LeakyReLU, ELU, PReLU, Softmax).
`HANDLERS` maps each Keras class name to its handler."""

from __future__ import annotations

from typing import Any

from zooprof.frontends.keras.builder import KTensor
from zooprof.frontends.keras.call import LayerCall, activation_name, one_input
from zooprof.frontends.keras.constants import ACTIVATIONS, Shape
from zooprof.frontends.keras.shapes import axes_in_rank, one_axis
from zooprof.ir.graph import numel
from zooprof.ir.ops import OpKind


def _dense(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x = one_input(c, inputs)
    units = int(c.get("units"))
    cin = x.shape[-1]
    use_bias = bool(c.get("use_bias", True))
    params = [("kernel", (cin, units), "trainable")]
    if use_bias:
        params.append(("bias", (units,), "trainable"))
    shape = (*x.shape[:-1], units)
    rank = len(x.shape)
    if rank > 2 and not c.b.channels_first:
        # Keras' Dense acts on the last (channels) axis: in N, C, spatial order that is a 1x1 conv.
        c.b.dense_as_conv += 1
        n = rank - 2
        y = c.emit(
            OpKind.CONV,
            [x],
            shape,
            {
                "kernel": (1,) * n,
                "stride": (1,) * n,
                "padding": (0,) * n,
                "dilation": (1,) * n,
                "groups": 1,
                "in_channels": cin,
                "out_channels": units,
                "bias": use_bias,
            },
            params,
            source_op="Dense (on the channel axis)",
        )
    else:
        y = c.emit(OpKind.DENSE, [x], shape, {"in_features": cin, "out_features": units, "bias": use_bias}, params)
    return c.activation(y, c.get("activation"))


def _norm_axes(c: LayerCall, x: KTensor, default: int | list[int]) -> list[int]:
    return axes_in_rank(c.get("axis", default), len(x.shape), c.where)


def _batchnorm(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x = one_input(c, inputs)
    axes = _norm_axes(c, x, -1)
    shape = tuple(x.shape[a] for a in axes)
    size = numel(shape)
    params: list[tuple[str, Shape, str]] = []
    if c.get("scale", True):
        params.append(("gamma", shape, "trainable"))
    if c.get("center", True):
        params.append(("beta", shape, "trainable"))
    params += [("moving_mean", shape, "non_trainable"), ("moving_variance", shape, "non_trainable")]
    return c.emit(
        OpKind.BATCHNORM,
        [x],
        x.shape,
        {
            "num_features": size,
            "eps": c.get("epsilon", 1e-3),
            "axis": [c.b.logical_axis(a, len(x.shape)) for a in axes],
        },
        params,
    )


def _layernorm(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x = one_input(c, inputs)
    axes = _norm_axes(c, x, -1)
    shape = tuple(x.shape[a] for a in axes)
    params: list[tuple[str, Shape, str]] = []
    if c.get("scale", True):
        params.append(("gamma", shape, "trainable"))
    if c.get("center", True):
        params.append(("beta", shape, "trainable"))
    return c.emit(OpKind.LAYERNORM, [x], x.shape, {"axis": [c.b.logical_axis(a, len(x.shape)) for a in axes]}, params)


def _groupnorm(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x = one_input(c, inputs)
    ch = one_axis(c.get("axis", -1), len(x.shape), c.where)
    shape = (x.shape[ch],)
    params: list[tuple[str, Shape, str]] = []
    if c.get("scale", True):
        params.append(("gamma", shape, "trainable"))
    if c.get("center", True):
        params.append(("beta", shape, "trainable"))
    return c.emit(OpKind.GROUPNORM, [x], x.shape, {"groups": int(c.get("groups", 32))}, params)


def _relu(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x = one_input(c, inputs)
    max_value = c.cfg.get("max_value")
    slope = float(c.cfg.get("negative_slope") or 0.0)
    threshold = float(c.cfg.get("threshold") or 0.0)
    if threshold:
        return c.emit(
            OpKind.UNKNOWN, [x], x.shape, {"keras_class": "ReLU", "threshold": threshold}, source_op="ReLU (threshold)"
        )
    if max_value is None:
        op = OpKind.LEAKY_RELU if slope else OpKind.RELU
    elif float(max_value) == 6.0 and not slope:
        op = OpKind.RELU6
    elif not slope:
        op = OpKind.HARDTANH
    else:
        return c.emit(OpKind.UNKNOWN, [x], x.shape, {"keras_class": "ReLU"}, source_op="ReLU (slope and max)")
    attrs = {"max_value": float(max_value)} if max_value is not None else {}
    if slope:
        attrs["negative_slope"] = slope
    return c.emit(op, [x], x.shape, attrs)


def _activation_layer(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x = one_input(c, inputs)
    name = activation_name(c.cfg.get("activation")) or "linear"
    op = ACTIVATIONS.get(name, OpKind.UNKNOWN)
    if op is None:
        return c.emit(OpKind.IDENTITY, [x], x.shape, {"activation": name}, source_op="Activation(linear)")
    attrs: dict[str, Any] = {"activation": name}
    if op is OpKind.SOFTMAX:
        attrs["axis"] = c.b.logical_axis(-1, len(x.shape))
    return c.emit(op, [x], x.shape, attrs, source_op=f"Activation({name})")


def _simple(op: OpKind) -> Any:
    def handler(c: LayerCall, inputs: list[KTensor]) -> KTensor:
        x = one_input(c, inputs)
        attrs: dict[str, Any] = {}
        if c.cls == "LeakyReLU":
            slope = c.cfg.get("negative_slope", c.cfg.get("alpha"))
            attrs["negative_slope"] = 0.3 if slope is None else float(slope)
        return c.emit(op, [x], x.shape, attrs)

    return handler


def _prelu(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x = one_input(c, inputs)
    shared = c.cfg.get("shared_axes") or []
    shared = [shared] if isinstance(shared, int) else shared
    shape = tuple(1 if (i + 1) in shared else d for i, d in enumerate(x.shape[1:]))
    return c.emit(OpKind.LEAKY_RELU, [x], x.shape, {"negative_slope": "learned"}, [("alpha", shape, "trainable")])


def _softmax(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x = inputs[0]
    a = one_axis(c.get("axis", -1), len(x.shape), c.where)
    return c.emit(OpKind.SOFTMAX, [x], x.shape, {"axis": c.b.logical_axis(a, len(x.shape))})


def _rescaling(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    """x * scale + offset: a multiply, and an add when there is an offset."""
    x = one_input(c, inputs)
    scale, offset = c.cfg.get("scale", 1.0), c.cfg.get("offset", 0.0)
    y = c.emit(OpKind.MUL, [x], x.shape, {"scale": scale}, source_op="Rescaling (scale)")
    if offset in (0, 0.0, None) or (isinstance(offset, list) and not any(offset)):
        return y
    return c.emit(OpKind.ADD, [y], x.shape, {"offset": offset}, suffix="/offset", source_op="Rescaling (offset)")


def _normalization(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    """(x - mean) / sqrt(variance) (or the inverse): a subtract and a divide per element.

    Without mean/variance in the config, Keras keeps them (and the sample count) as
    non-trainable weights, which count_params includes."""
    x = one_input(c, inputs)
    axes = _norm_axes(c, x, -1)
    shape = tuple(x.shape[a] for a in axes)
    params: list[tuple[str, Shape, str]] = []
    if c.cfg.get("mean") is None and c.cfg.get("variance") is None:
        params = [("mean", shape, "non_trainable"), ("variance", shape, "non_trainable"), ("count", (), "int64")]
    invert = bool(c.cfg.get("invert", False))
    first, second = (OpKind.MUL, OpKind.ADD) if invert else (OpKind.SUB, OpKind.DIV)
    y = c.emit(
        first,
        [x],
        x.shape,
        {"normalization": "invert" if invert else "standardize"},
        params,
        source_op="Normalization (" + ("scale" if invert else "subtract mean") + ")",
    )
    return c.emit(
        second,
        [y],
        x.shape,
        {},
        suffix="/scale" if not invert else "/offset",
        source_op="Normalization (" + ("add mean" if invert else "divide by std") + ")",
    )


HANDLERS: dict[str, Any] = {
    "Dense": _dense,
    "BatchNormalization": _batchnorm,
    "LayerNormalization": _layernorm,
    "GroupNormalization": _groupnorm,
    "ReLU": _relu,
    "Activation": _activation_layer,
    "LeakyReLU": _simple(OpKind.LEAKY_RELU),
    "ELU": _simple(OpKind.ELU),
    "PReLU": _prelu,
    "Softmax": _softmax,
    "Rescaling": _rescaling,
    "Normalization": _normalization,
}
