"""TFLite op mapping: builtin operators -> (OpKind, attributes), which inputs are weights.

The tables here know the TFLite schema (tensorflow/compiler/mlir/lite/schema/schema.fbs):
builtin operator codes, tensor types, the field order of each options table, and which
operator inputs are weights, which act as attributes (a PAD's paddings, a MEAN's axes).
`zooprof.frontends.tflite.read` reads the flatbuffer; this module never sees bytes, only an
`OpView` of one operator with raw (file-order, NHWC) shapes and small constant values.

Attributes follow the rules' vocabulary (zooprof/rules/): spatial geometry in H, W order,
padding as per-axis ints when symmetric, else per-axis (before, after) pairs; axes in the
logical N, C, spatial order whenever the tensor is an NHWC image.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from zooprof.ir.ops import OpKind

Attrs = dict[str, Any]
Mapped = tuple[OpKind, Attrs]
Shape = tuple[int, ...]

#: BuiltinOperator enum, index = code (schema.fbs, LiteRT 2.3). Codes past the end are
#: named BUILTIN_<code>.
_BUILTIN_NAMES = """
ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE EMBEDDING_LOOKUP FLOOR
FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D LOCAL_RESPONSE_NORMALIZATION LOGISTIC
LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6 RESHAPE RESIZE_BILINEAR RNN SOFTMAX SPACE_TO_DEPTH
SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM CALL CUSTOM EMBEDDING_LOOKUP_SPARSE PAD UNIDIRECTIONAL_SEQUENCE_RNN
GATHER BATCH_TO_SPACE_ND SPACE_TO_BATCH_ND TRANSPOSE MEAN SUB DIV SQUEEZE UNIDIRECTIONAL_SEQUENCE_LSTM
STRIDED_SLICE BIDIRECTIONAL_SEQUENCE_RNN EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM
CAST PRELU MAXIMUM ARG_MAX MINIMUM LESS NEG PADV2 GREATER GREATER_EQUAL LESS_EQUAL SELECT SLICE SIN
TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT RSQRT SHAPE POW ARG_MIN
FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ONE_HOT LOGICAL_AND LOGICAL_NOT UNPACK REDUCE_MIN FLOOR_DIV
REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD RANGE RESIZE_NEAREST_NEIGHBOR LEAKY_RELU SQUARED_DIFFERENCE
MIRROR_PAD ABS SPLIT_V UNIQUE CEIL REVERSE_V2 ADD_N GATHER_ND COS WHERE RANK ELU REVERSE_SEQUENCE MATRIX_DIAG
QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE NON_MAX_SUPPRESSION_V4 NON_MAX_SUPPRESSION_V5 SCATTER_ND
SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM CALL_ONCE BROADCAST_TO
RFFT2D CONV_3D IMAG REAL COMPLEX_ABS HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT HASHTABLE_SIZE REDUCE_ALL
CONV_3D_TRANSPOSE VAR_HANDLE READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS RANDOM_STANDARD_NORMAL BUCKETIZE
RANDOM_UNIFORM MULTINOMIAL GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1 UNSORTED_SEGMENT_PROD UNSORTED_SEGMENT_MAX
UNSORTED_SEGMENT_SUM ATAN2 UNSORTED_SEGMENT_MIN SIGN BITCAST BITWISE_XOR RIGHT_SHIFT STABLEHLO_LOGISTIC
STABLEHLO_ADD STABLEHLO_DIVIDE STABLEHLO_MULTIPLY STABLEHLO_MAXIMUM STABLEHLO_RESHAPE STABLEHLO_CLAMP
STABLEHLO_CONCATENATE STABLEHLO_BROADCAST_IN_DIM STABLEHLO_CONVOLUTION STABLEHLO_SLICE STABLEHLO_CUSTOM_CALL
STABLEHLO_REDUCE STABLEHLO_ABS STABLEHLO_AND STABLEHLO_COSINE STABLEHLO_EXPONENTIAL STABLEHLO_FLOOR
STABLEHLO_LOG STABLEHLO_MINIMUM STABLEHLO_NEGATE STABLEHLO_OR STABLEHLO_POWER STABLEHLO_REMAINDER
STABLEHLO_RSQRT STABLEHLO_SELECT STABLEHLO_SUBTRACT STABLEHLO_TANH STABLEHLO_SCATTER STABLEHLO_COMPARE
STABLEHLO_CONVERT STABLEHLO_DYNAMIC_SLICE STABLEHLO_DYNAMIC_UPDATE_SLICE STABLEHLO_PAD STABLEHLO_IOTA
STABLEHLO_DOT_GENERAL STABLEHLO_REDUCE_WINDOW STABLEHLO_SORT STABLEHLO_WHILE STABLEHLO_GATHER
STABLEHLO_TRANSPOSE DILATE STABLEHLO_RNG_BIT_GENERATOR REDUCE_WINDOW STABLEHLO_COMPOSITE STABLEHLO_SHIFT_LEFT
STABLEHLO_CBRT STABLEHLO_CASE
"""
BUILTIN_NAMES: tuple[str, ...] = tuple(_BUILTIN_NAMES.split())

CUSTOM = 32


def builtin_name(code: int) -> str:
    return BUILTIN_NAMES[code] if 0 <= code < len(BUILTIN_NAMES) else f"BUILTIN_{code}"


#: TensorType -> zooprof dtype name (zooprof.ir.graph.DTYPE_BYTES)
DTYPES: dict[int, str] = {
    0: "float32",
    1: "float16",
    2: "int32",
    3: "uint8",
    4: "int64",
    6: "bool",
    7: "int16",
    9: "int8",
    10: "float64",
    18: "bfloat16",
}

#: TensorTypes zooprof has no dtype for: (their name, the dtype counted instead). Sub-byte
#: types are counted at one byte per element (LiteRT packs int4 two to a byte: over-counted).
DTYPE_APPROX: dict[int, tuple[str, str]] = {
    5: ("string", "int8"),
    8: ("complex64", "float64"),
    11: ("complex128", "float64"),
    12: ("uint64", "int64"),
    13: ("resource", "int64"),
    14: ("variant", "int64"),
    15: ("uint32", "int32"),
    16: ("uint16", "int16"),
    17: ("int4", "int8"),
    19: ("int2", "int8"),
    20: ("uint4", "uint8"),
    21: ("float8_e4m3fn", "uint8"),
    22: ("float8_e5m2", "uint8"),
}

#: struct format of the element types whose small constant values are read
VALUE_FORMATS: dict[int, str] = {0: "f", 2: "i", 3: "B", 4: "q", 6: "?", 7: "h", 9: "b", 10: "d"}

#: ActivationFunctionType -> the activation layer emitted after the op (None: no activation)
FUSED: dict[int, tuple[str, OpKind] | None] = {
    0: None,
    1: ("RELU", OpKind.RELU),
    2: ("RELU_N1_TO_1", OpKind.HARDTANH),
    3: ("RELU6", OpKind.RELU6),
    4: ("TANH", OpKind.TANH),
    5: ("SIGN_BIT", OpKind.UNKNOWN),
}

#: builtin -> field index of fused_activation_function in its options table
FUSED_FIELD: dict[str, int] = {
    "CONV_2D": 3,
    "DEPTHWISE_CONV_2D": 4,
    "FULLY_CONNECTED": 0,
    "AVERAGE_POOL_2D": 5,
    "MAX_POOL_2D": 5,
    "L2_POOL_2D": 5,
    "ADD": 0,
    "SUB": 0,
    "MUL": 0,
    "DIV": 0,
    "CONCATENATION": 1,
    "TRANSPOSE_CONV": 3,
    "CONV_3D": 4,
}

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

#: ops whose data input is not input 0
DATA_INPUT: dict[str, int] = {"TRANSPOSE_CONV": 2, "SPLIT": 1}

#: ops that work on NHWC images: their rank-4 data input and output are images (C is last)
SPATIAL_OPS = frozenset(
    {
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "AVERAGE_POOL_2D",
        "MAX_POOL_2D",
        "L2_POOL_2D",
        "TRANSPOSE_CONV",
        "RESIZE_BILINEAR",
        "RESIZE_NEAREST_NEIGHBOR",
        "DEPTH_TO_SPACE",
        "SPACE_TO_DEPTH",
        "LOCAL_RESPONSE_NORMALIZATION",
        "SPACE_TO_BATCH_ND",
        "BATCH_TO_SPACE_ND",
    }
)

#: ops that keep the layout: a rank-4 tensor they read or write is an image if any other is
LAYOUT_PRESERVING = frozenset(
    {
        "ADD",
        "SUB",
        "MUL",
        "DIV",
        "MAXIMUM",
        "MINIMUM",
        "SQUARED_DIFFERENCE",
        "POW",
        "RELU",
        "RELU6",
        "RELU_N1_TO_1",
        "RELU_0_TO_1",
        "LOGISTIC",
        "TANH",
        "HARD_SWISH",
        "LEAKY_RELU",
        "PRELU",
        "ELU",
        "GELU",
        "QUANTIZE",
        "DEQUANTIZE",
        "CAST",
        "ABS",
        "NEG",
        "EXP",
        "LOG",
        "SQRT",
        "RSQRT",
        "SQUARE",
        "PAD",
        "PADV2",
        "MIRROR_PAD",
        "CONCATENATION",
        "SOFTMAX",
        "LOG_SOFTMAX",
        "FLOOR",
        "CEIL",
        "ROUND",
        "ADD_N",
        "SELECT",
        "SELECT_V2",
    }
)

#: NHWC axis -> logical (N, C, H, W) axis
NHWC_TO_LOGICAL = (0, 2, 3, 1)


class Options(Protocol):
    """An operator's options table (zooprof.frontends.tflite.read._Table)."""

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


def _conv(view: OpView) -> Mapped:
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


def _depthwise(view: OpView) -> Mapped:
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


def _transpose_conv(view: OpView) -> Mapped:
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


def _pool(kind: OpKind) -> Callable[[OpView], Mapped]:
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


def _dense(view: OpView) -> Mapped:
    w = view.shape(1)  # out, in
    attrs: Attrs = {"in_features": int(w[-1]), "out_features": int(w[0]), "bias": view.has(2)}
    if view.opt_bool(2):
        attrs["keep_num_dims"] = True
    return OpKind.DENSE, attrs


def _softmax(view: OpView) -> Mapped:
    rank = len(view.shape(0))
    return OpKind.SOFTMAX, {"axis": logical_axis(-1, rank, view.image_in), "beta": view.opt_float(0, 1.0)}


def _concat(view: OpView) -> Mapped:
    rank = len(view.out_shapes[0])
    return OpKind.CONCAT, {"axis": logical_axis(view.opt_int(0), rank, view.image_out)}


def _reduce(kind: OpKind) -> Callable[[OpView], Mapped]:
    def f(view: OpView) -> Mapped:
        rank = len(view.shape(0))
        axes = view.value(1)
        if axes is None:
            raise ValueError("reduction axes are not a constant")
        logical = tuple(sorted({logical_axis(int(a), rank, view.image_in) for a in axes}))
        return kind, {"axis": logical, "keepdims": view.opt_bool(0)}

    return f


def _pad(view: OpView) -> Mapped:
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


def _reshape(view: OpView) -> Mapped:
    return OpKind.RESHAPE, {"shape": tuple(int(d) for d in view.out_shapes[0])}


def _transpose(view: OpView) -> Mapped:
    perm = view.value(1)
    return OpKind.PERMUTE, (
        {"perm": tuple(int(p) for p in perm), "perm_layout": "file (NHWC)"} if perm is not None else {}
    )


def _quant(view: OpView) -> Mapped:
    return OpKind.COPY, {"from": view.extra.get("in_dtype"), "to": view.extra.get("out_dtype")}


def _lrn(view: OpView) -> Mapped:
    return OpKind.LRN, {
        "size": 2 * view.opt_int(0) + 1,
        "bias": view.opt_float(1),
        "alpha": view.opt_float(2),
        "beta": view.opt_float(3),
    }


def _simple(kind: OpKind, **fixed: Any) -> Callable[[OpView], Mapped]:
    return lambda view: (kind, dict(fixed))


def _matmul(view: OpView) -> Mapped:
    attrs: Attrs = {}
    if view.opt_bool(0):
        attrs["adj_x"] = True
    if view.opt_bool(1):
        attrs["adj_y"] = True
    if attrs.get("adj_x"):
        raise ValueError("BATCH_MATMUL with adj_x: the matmul rule reads k from the last axis of input 0")
    return OpKind.MATMUL, attrs


OP_RULES: dict[str, Callable[[OpView], Mapped]] = {
    "CONV_2D": _conv,
    "DEPTHWISE_CONV_2D": _depthwise,
    "TRANSPOSE_CONV": _transpose_conv,
    "FULLY_CONNECTED": _dense,
    "BATCH_MATMUL": _matmul,
    "AVERAGE_POOL_2D": _pool(OpKind.AVGPOOL),
    "MAX_POOL_2D": _pool(OpKind.MAXPOOL),
    "ADD": _simple(OpKind.ADD),
    "SUB": _simple(OpKind.SUB),
    "MUL": _simple(OpKind.MUL),
    "DIV": _simple(OpKind.DIV),
    "MEAN": _reduce(OpKind.MEAN),
    "SUM": _reduce(OpKind.SUM),
    "PAD": _pad,
    "PADV2": _pad,
    "MIRROR_PAD": _pad,
    "RESHAPE": _reshape,
    "SQUEEZE": _reshape,
    "EXPAND_DIMS": _reshape,
    "SOFTMAX": _softmax,
    "CONCATENATION": _concat,
    "QUANTIZE": _quant,
    "DEQUANTIZE": _quant,
    "CAST": _quant,
    "LOGISTIC": _simple(OpKind.SIGMOID),
    "HARD_SWISH": _simple(OpKind.HARDSWISH),
    "RELU": _simple(OpKind.RELU),
    "RELU6": _simple(OpKind.RELU6),
    "RELU_N1_TO_1": _simple(OpKind.HARDTANH, min=-1.0, max=1.0),
    "RELU_0_TO_1": _simple(OpKind.HARDTANH, min=0.0, max=1.0),
    "LEAKY_RELU": _simple(OpKind.LEAKY_RELU),
    "PRELU": _simple(OpKind.LEAKY_RELU, learned_slope=True),
    "ELU": _simple(OpKind.ELU),
    "GELU": _simple(OpKind.GELU),
    "TANH": _simple(OpKind.TANH),
    "TRANSPOSE": _transpose,
    "RESIZE_BILINEAR": _simple(OpKind.RESIZE, mode="bilinear"),
    "RESIZE_NEAREST_NEIGHBOR": _simple(OpKind.RESIZE, mode="nearest"),
    "STRIDED_SLICE": _simple(OpKind.SLICE),
    "SLICE": _simple(OpKind.SLICE),
    "SPLIT": _simple(OpKind.SLICE),
    "SPLIT_V": _simple(OpKind.SLICE),
    "UNPACK": _simple(OpKind.SLICE),
    "GATHER": _simple(OpKind.SLICE),
    "SHAPE": _simple(OpKind.COPY, shape_of=True),
    "PACK": _simple(OpKind.COPY),
    "TILE": _simple(OpKind.COPY),
    "BROADCAST_TO": _simple(OpKind.COPY),
    "DEPTH_TO_SPACE": _simple(OpKind.COPY),
    "SPACE_TO_DEPTH": _simple(OpKind.COPY),
    "LOCAL_RESPONSE_NORMALIZATION": _lrn,
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
