"""The fixed vocabulary of operation kinds that every frontend maps its ops onto."""

from __future__ import annotations

from enum import Enum


class OpKind(str, Enum):
    """Framework-neutral op kinds. Frontends map framework ops onto these; rules key on them."""

    # linear algebra
    CONV = "conv"
    CONV_TRANSPOSE = "conv_transpose"
    DENSE = "dense"
    MATMUL = "matmul"
    EINSUM = "einsum"  # a two-operand contraction given by its equation
    ATTENTION = "attention"  # multi-head attention: projections, QK^T, softmax, AV (rules/attention.py)
    # normalisation
    BATCHNORM = "batchnorm"
    LAYERNORM = "layernorm"
    GROUPNORM = "groupnorm"
    INSTANCENORM = "instancenorm"
    LRN = "lrn"
    # activations
    RELU = "relu"
    RELU6 = "relu6"
    LEAKY_RELU = "leaky_relu"
    HARDTANH = "hardtanh"
    SIGMOID = "sigmoid"
    TANH = "tanh"
    HARDSIGMOID = "hardsigmoid"
    HARDSWISH = "hardswish"
    SILU = "silu"
    GELU = "gelu"
    ERF = "erf"  # the error function alone (ONNX Erf: GELU written as Div, Erf, Add, Mul, Mul)
    ELU = "elu"
    SOFTMAX = "softmax"
    # pooling
    MAXPOOL = "maxpool"
    AVGPOOL = "avgpool"
    ADAPTIVE_AVGPOOL = "adaptive_avgpool"
    ADAPTIVE_MAXPOOL = "adaptive_maxpool"
    # elementwise binary
    ADD = "add"
    SUB = "sub"
    MUL = "mul"
    DIV = "div"
    SQUARED_DIFFERENCE = "squared_difference"  # (a - b)^2: TFLite's variance of a decomposed norm
    # elementwise unary math
    NEG = "neg"
    SQRT = "sqrt"
    RSQRT = "rsqrt"  # 1 / sqrt(x), one op (TFLite RSQRT)
    # reductions
    MEAN = "mean"
    SUM = "sum"
    PROD = "prod"
    # data movement (no arithmetic)
    CONCAT = "concat"
    FLATTEN = "flatten"
    RESHAPE = "reshape"
    PERMUTE = "permute"
    SLICE = "slice"
    PAD = "pad"
    DROPOUT = "dropout"
    IDENTITY = "identity"
    COPY = "copy"
    # resampling and clamping
    RESIZE = "resize"
    GRID_SAMPLE = "grid_sample"  # values sampled at given positions (RAFT's correlation lookup, STNs)
    CLAMP = "clamp"
    VECTOR_NORM = "vector_norm"
    # detection: region pooling and post-processing (docs/detection.md)
    ROI_ALIGN = "roi_align"
    NMS = "nms"
    DETECTION_POSTPROCESS = "detection_postprocess"
    # anything a frontend could not map
    UNKNOWN = "unknown"


#: Ops whose output is a view of (or written in place over) their first input in PyTorch
#: eager mode, so they allocate no new activation memory.
VIEW_OPS = frozenset({OpKind.FLATTEN, OpKind.RESHAPE, OpKind.PERMUTE, OpKind.SLICE, OpKind.DROPOUT, OpKind.IDENTITY})

#: Layer attribute a frontend sets (True) on a layer of a VIEW_OPS kind that writes a new
#: tensor in its format, e.g. ONNX Transpose, Expand, Slice, GatherND: the runtime copies,
#: so the memory analysis gives it its own buffer.
COPIES_ATTR = "copies"
