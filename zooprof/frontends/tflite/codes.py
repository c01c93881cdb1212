"""TFLite schema codes (tensorflow/compiler/mlir/lite/schema/schema.fbs): the enums zooprof reads.

Builtin operator codes and their names, the CUSTOM code, TensorType -> zooprof dtype (with
the approximations for types zooprof has no dtype for, and `Dtypes`, which remembers them
for the notes), the struct formats of the element types whose small constant values are
read, ActivationFunctionType -> the fused activation layer, and where each op's options
table keeps its fused activation. Tables only: no bytes are read here.
"""

from __future__ import annotations

from zooprof.ir.ops import OpKind

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


class Dtypes:
    """TensorType -> dtype name, remembering approximations for the notes."""

    def __init__(self) -> None:
        self.approximated: dict[str, str] = {}

    def __call__(self, code: int) -> str:
        if code in DTYPES:
            return DTYPES[code]
        theirs, ours = DTYPE_APPROX.get(code, (f"type {code}", "float32"))
        self.approximated[theirs] = ours
        return ours
