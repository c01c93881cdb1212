"""TFLite op mapping: builtin operators -> (OpKind, attributes), and which inputs are weights.

`map_op(view)` looks the operator up in OP_RULES, the one table of rules (written in
ops_layers.py and ops_tensor.py); an op without a rule, or whose attributes cannot be read,
is OpKind.UNKNOWN. `param_role(op, index, numel)` says whether a stored constant input is a
parameter of the layer: WEIGHT_INPUTS always are, ATTRIBUTE_INPUTS (a PAD's paddings, a
MEAN's axes) never. This module never sees bytes, only an `OpView` of one operator with raw
(file-order, NHWC) shapes and small constant values (zooprof.frontends.tflite.build makes it).

Attributes follow the rules' vocabulary (zooprof/rules/): spatial geometry in H, W order,
padding as per-axis ints when symmetric, else per-axis (before, after) pairs; axes in the
logical N, C, spatial order whenever the tensor is an NHWC image.
"""

from __future__ import annotations

from collections.abc import Callable

from zooprof.frontends.tflite import ops_layers as layers
from zooprof.frontends.tflite import ops_tensor as tensor
from zooprof.frontends.tflite.opview import Mapped, OpView
from zooprof.ir.ops import OpKind

#: builtin -> input indices that are weights (parameters) when they are stored constants
WEIGHT_INPUTS: dict[str, frozenset[int]] = {
    "CONV_2D": frozenset({1, 2}),
    "DEPTHWISE_CONV_2D": frozenset({1, 2}),
    "FULLY_CONNECTED": frozenset({1, 2}),
    "TRANSPOSE_CONV": frozenset({1, 3}),
    "CONV_3D": frozenset({1, 2}),
    "PRELU": frozenset({1}),
    "EMBEDDING_LOOKUP": frozenset({1}),
    "BATCH_MATMUL": frozenset({1}),
}

#: builtin -> input indices that act as attributes (shapes, axes, paddings): never parameters
ATTRIBUTE_INPUTS: dict[str, frozenset[int]] = {
    "PAD": frozenset({1}),
    "PADV2": frozenset({1, 2}),
    "MIRROR_PAD": frozenset({1}),
    "MEAN": frozenset({1}),
    "SUM": frozenset({1}),
    "REDUCE_MAX": frozenset({1}),
    "REDUCE_MIN": frozenset({1}),
    "REDUCE_PROD": frozenset({1}),
    "REDUCE_ANY": frozenset({1}),
    "REDUCE_ALL": frozenset({1}),
    "RESHAPE": frozenset({1}),
    "TRANSPOSE": frozenset({1}),
    "EXPAND_DIMS": frozenset({1}),
    "STRIDED_SLICE": frozenset({1, 2, 3}),
    "SLICE": frozenset({1, 2}),
    "SPLIT": frozenset({0}),
    "SPLIT_V": frozenset({1, 2}),
    "TRANSPOSE_CONV": frozenset({0}),
    "RESIZE_BILINEAR": frozenset({1}),
    "RESIZE_NEAREST_NEIGHBOR": frozenset({1}),
    "TILE": frozenset({1}),
    "BROADCAST_TO": frozenset({1}),
    "SPACE_TO_BATCH_ND": frozenset({1, 2}),
    "BATCH_TO_SPACE_ND": frozenset({1, 2}),
    "ARG_MAX": frozenset({1}),
    "ARG_MIN": frozenset({1}),
    "GATHER": frozenset({1}),
    "GATHER_ND": frozenset({1}),
    "TOPK_V2": frozenset({1}),
    "CUMSUM": frozenset({1}),
    "ONE_HOT": frozenset({1, 2, 3}),
    "FILL": frozenset({0, 1}),
    "REVERSE_V2": frozenset({1}),
}

OP_RULES: dict[str, Callable[[OpView], Mapped]] = {
    "CONV_2D": layers.conv,
    "DEPTHWISE_CONV_2D": layers.depthwise,
    "TRANSPOSE_CONV": layers.transpose_conv,
    "FULLY_CONNECTED": layers.dense,
    "BATCH_MATMUL": layers.matmul,
    "AVERAGE_POOL_2D": layers.pool(OpKind.AVGPOOL),
    "MAX_POOL_2D": layers.pool(OpKind.MAXPOOL),
    "ADD": tensor.simple(OpKind.ADD),
    "SUB": tensor.simple(OpKind.SUB),
    "MUL": tensor.simple(OpKind.MUL),
    "DIV": tensor.simple(OpKind.DIV),
    "SQUARED_DIFFERENCE": tensor.simple(OpKind.SQUARED_DIFFERENCE),
    "NEG": tensor.simple(OpKind.NEG),
    "SQRT": tensor.simple(OpKind.SQRT),
    "RSQRT": tensor.simple(OpKind.RSQRT),
    "MEAN": tensor.reduction(OpKind.MEAN),
    "SUM": tensor.reduction(OpKind.SUM),
    "REDUCE_PROD": tensor.reduction(OpKind.PROD),
    "PAD": tensor.pad,
    "PADV2": tensor.pad,
    "MIRROR_PAD": tensor.pad,
    "RESHAPE": tensor.reshape,
    "SQUEEZE": tensor.reshape,
    "EXPAND_DIMS": tensor.reshape,
    "SOFTMAX": tensor.softmax,
    "CONCATENATION": tensor.concat,
    "QUANTIZE": tensor.convert,
    "DEQUANTIZE": tensor.convert,
    "CAST": tensor.convert,
    "LOGISTIC": tensor.simple(OpKind.SIGMOID),
    "HARD_SWISH": tensor.simple(OpKind.HARDSWISH),
    "RELU": tensor.simple(OpKind.RELU),
    "RELU6": tensor.simple(OpKind.RELU6),
    "RELU_N1_TO_1": tensor.simple(OpKind.HARDTANH, min=-1.0, max=1.0),
    "RELU_0_TO_1": tensor.simple(OpKind.HARDTANH, min=0.0, max=1.0),
    "LEAKY_RELU": tensor.simple(OpKind.LEAKY_RELU),
    "PRELU": tensor.simple(OpKind.LEAKY_RELU, learned_slope=True),
    "ELU": tensor.simple(OpKind.ELU),
    "GELU": tensor.simple(OpKind.GELU),
    "TANH": tensor.simple(OpKind.TANH),
    "TRANSPOSE": tensor.transpose,
    "RESIZE_BILINEAR": tensor.simple(OpKind.RESIZE, mode="bilinear"),
    "RESIZE_NEAREST_NEIGHBOR": tensor.simple(OpKind.RESIZE, mode="nearest"),
    "STRIDED_SLICE": tensor.simple(OpKind.SLICE),
    "SLICE": tensor.simple(OpKind.SLICE),
    "SPLIT": tensor.simple(OpKind.SLICE),
    "SPLIT_V": tensor.simple(OpKind.SLICE),
    "UNPACK": tensor.simple(OpKind.SLICE),
    "GATHER": tensor.simple(OpKind.SLICE),
    "SHAPE": tensor.simple(OpKind.COPY, shape_of=True),
    "PACK": tensor.simple(OpKind.COPY),
    "TILE": tensor.simple(OpKind.COPY),
    "BROADCAST_TO": tensor.simple(OpKind.COPY),
    "DEPTH_TO_SPACE": tensor.simple(OpKind.COPY),
    "SPACE_TO_DEPTH": tensor.simple(OpKind.COPY),
    "LOCAL_RESPONSE_NORMALIZATION": layers.lrn,
}


def param_role(op: str, index: int, numel: int) -> bool:
    """Whether input `index` of `op`, when it is a stored constant of `numel` elements, is a
    parameter of that layer. Weights always are, attribute inputs never; any other stored
    constant is when it has more than one element (a scalar is an operator constant)."""
    if index in WEIGHT_INPUTS.get(op, frozenset()):
        return True
    if index in ATTRIBUTE_INPUTS.get(op, frozenset()):
        return False
    return numel > 1


def map_op(view: OpView) -> Mapped:
    """(OpKind, attrs) of one builtin operator; OpKind.UNKNOWN (with attrs['unmapped']) when
    zooprof has no rule for it or its attributes cannot be read."""
    rule = OP_RULES.get(view.name)
    if rule is None:
        return OpKind.UNKNOWN, {}
    try:
        return rule(view)
    except (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError) as exc:
        return OpKind.UNKNOWN, {"unmapped": f"{view.name}: {exc}"}
