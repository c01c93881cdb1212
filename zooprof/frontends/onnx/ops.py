"""ONNX op mapping: node op_type -> (OpKind, attrs), and which node inputs are weights.

`OP_RULES` is the one table of mappers (op_type -> mapper, from ops_nn.py and ops_tensor.py);
`map_node` applies it to a `NodeView` (ops_view.py). The op sets say which nodes are not
layers (shape computations, constant sources) and which pass a constant through;
`param_role` says which constant inputs of a layer are its parameters.
"""

from __future__ import annotations

from collections.abc import Callable

from zooprof.frontends.onnx.ops_nn import (
    map_batchnorm,
    map_clip,
    map_conv,
    map_conv_transpose,
    map_einsum,
    map_gemm,
    map_global_pool,
    map_layernorm,
    map_lrn,
    map_matmul,
    map_pool,
    map_softmax,
)
from zooprof.frontends.onnx.ops_tensor import (
    map_concat,
    map_flatten,
    map_gather,
    map_grid_sample,
    map_nms,
    map_pad,
    map_reduce,
    map_resize,
    map_split,
    map_sum,
    map_transpose,
)
from zooprof.frontends.onnx.ops_view import Attrs, Mapped, NodeView, simple, with_attrs
from zooprof.ir.graph import ParamKind
from zooprof.ir.ops import COPIES_ATTR, VIEW_OPS, OpKind

#: ONNX op_type (default domain) -> mapper. Anything missing maps to OpKind.UNKNOWN.
OP_RULES: dict[str, Callable[[NodeView], Mapped]] = {
    "Conv": map_conv,
    "ConvTranspose": map_conv_transpose,
    "Gemm": map_gemm,
    "MatMul": map_matmul,
    "Einsum": map_einsum,
    "BatchNormalization": map_batchnorm,
    "LayerNormalization": map_layernorm,
    "InstanceNormalization": with_attrs(OpKind.INSTANCENORM, eps="epsilon"),
    "GroupNormalization": with_attrs(OpKind.GROUPNORM, num_groups="num_groups", eps="epsilon"),
    "LRN": map_lrn,
    "Relu": simple(OpKind.RELU),
    "Clip": map_clip,
    "LeakyRelu": lambda n: (OpKind.LEAKY_RELU, {"alpha": float(n.attr("alpha", 0.01))}),
    "Sigmoid": simple(OpKind.SIGMOID),
    "Tanh": simple(OpKind.TANH),
    "HardSigmoid": lambda n: (
        OpKind.HARDSIGMOID,
        {"alpha": float(n.attr("alpha", 0.2)), "beta": float(n.attr("beta", 0.5))},
    ),
    "HardSwish": simple(OpKind.HARDSWISH),
    "Gelu": with_attrs(OpKind.GELU, approximate="approximate"),
    "Erf": simple(OpKind.ERF),
    "Elu": lambda n: (OpKind.ELU, {"alpha": float(n.attr("alpha", 1.0))}),
    "Softmax": map_softmax,
    "LogSoftmax": map_softmax,
    "MaxPool": map_pool(OpKind.MAXPOOL),
    "AveragePool": map_pool(OpKind.AVGPOOL),
    "GlobalAveragePool": map_global_pool(OpKind.ADAPTIVE_AVGPOOL),
    "GlobalMaxPool": map_global_pool(OpKind.ADAPTIVE_MAXPOOL),
    "Add": simple(OpKind.ADD),
    "Sub": simple(OpKind.SUB),
    "Mul": simple(OpKind.MUL),
    "Div": simple(OpKind.DIV),
    "Neg": simple(OpKind.NEG),
    "Sqrt": simple(OpKind.SQRT),
    "Sum": map_sum,
    "Concat": map_concat,
    "Flatten": map_flatten,
    "Reshape": simple(OpKind.RESHAPE),
    "Squeeze": simple(OpKind.RESHAPE),
    "Unsqueeze": simple(OpKind.RESHAPE),
    "Expand": simple(OpKind.RESHAPE),
    "Transpose": map_transpose,
    "Slice": simple(OpKind.SLICE),
    "Gather": map_gather,
    "GatherElements": simple(OpKind.SLICE),
    "GatherND": simple(OpKind.SLICE),
    "Split": map_split,
    "Pad": map_pad,
    "Dropout": simple(OpKind.DROPOUT),
    "Identity": simple(OpKind.IDENTITY),
    "Cast": simple(OpKind.COPY),
    "CastLike": simple(OpKind.COPY),
    "Tile": simple(OpKind.COPY),
    "DepthToSpace": simple(OpKind.COPY),
    "SpaceToDepth": simple(OpKind.COPY),
    "ReduceMean": map_reduce(OpKind.MEAN),
    "ReduceSum": map_reduce(OpKind.SUM),
    "ReduceProd": map_reduce(OpKind.PROD),
    "ReduceL2": map_reduce(OpKind.VECTOR_NORM),
    "NonMaxSuppression": map_nms,
    "Resize": map_resize,
    "Upsample": map_resize,
    "GridSample": map_grid_sample,
}

#: Ops of a view kind (VIEW_OPS) that onnxruntime runs as a view of their input's buffer (its
#: kernels declare the output an alias of input 0). Any other op of a view kind writes a new
#: tensor in ONNX (Transpose, Expand, Slice, Split, Gather, GatherElements, GatherND: ONNX
#: tensors are contiguous), so `map_node` marks it with COPIES_ATTR and the memory analysis
#: gives it a buffer of its own, unlike PyTorch's views.
ALIASING_OPS = frozenset({"Reshape", "Squeeze", "Unsqueeze", "Flatten", "Identity", "Dropout"})

#: Ops whose output is a pure function of input *shapes* (never of values): their outputs
#: are constants once the input shape is fixed, so they are not layers.
SHAPE_OPS = frozenset({"Shape", "Size"})

#: Ops with no data inputs that create a tensor: never layers.
SOURCE_OPS = frozenset(
    {
        "Constant",
        "ConstantOfShape",
        "Range",
        "EyeLike",
        "RandomNormal",
        "RandomUniform",
        "RandomNormalLike",
        "RandomUniformLike",
    }
)

#: Ops that pass a constant's value through unchanged (up to layout or dtype): when they run on
#: an initialiser alone, their output stands for that initialiser (e.g. Identity(weight) left
#: by the exporter deduplicating equal tensors, Cast(fp16 weight), DequantizeLinear(int8 weight),
#: Expand(class token) to the batch size).
VALUE_PRESERVING_OPS = frozenset(
    {
        "Identity",
        "Cast",
        "CastLike",
        "Transpose",
        "Reshape",
        "Squeeze",
        "Unsqueeze",
        "Flatten",
        "Expand",
        "Tile",
        "DequantizeLinear",
    }
)

#: Inputs that are weights of the layer, with their kind: counted as parameters even when
#: they are scalars. BatchNormalization's running mean and variance are buffers, as in PyTorch.
WEIGHT_INPUTS: dict[str, dict[int, ParamKind]] = {
    "Conv": {1: "trainable", 2: "trainable"},
    "ConvTranspose": {1: "trainable", 2: "trainable"},
    "Gemm": {1: "trainable", 2: "trainable"},
    "MatMul": {0: "trainable", 1: "trainable"},
    "BatchNormalization": {1: "trainable", 2: "trainable", 3: "buffer", 4: "buffer"},
    "LayerNormalization": {1: "trainable", 2: "trainable"},
    "InstanceNormalization": {1: "trainable", 2: "trainable"},
    "GroupNormalization": {1: "trainable", 2: "trainable"},
    "PRelu": {1: "trainable"},
    "Gather": {0: "trainable"},
}

#: Inputs that act as attributes (shapes, axes, bounds, indices, pad widths): never parameters.
ATTRIBUTE_INPUTS: dict[str, frozenset[int]] = {
    "Clip": frozenset({1, 2}),
    "Reshape": frozenset({1}),
    "Expand": frozenset({1}),
    "Tile": frozenset({1}),
    "Squeeze": frozenset({1}),
    "Unsqueeze": frozenset({1}),
    "Slice": frozenset({1, 2, 3, 4}),
    "Split": frozenset({1}),
    "Pad": frozenset({1, 2, 3}),
    "Gather": frozenset({1}),
    "GatherElements": frozenset({1}),
    "GatherND": frozenset({1}),
    "ReduceMean": frozenset({1}),
    "ReduceSum": frozenset({1}),
    "ReduceMax": frozenset({1}),
    "ReduceMin": frozenset({1}),
    "ReduceProd": frozenset({1}),
    "ReduceL2": frozenset({1}),
    "Resize": frozenset({1, 2, 3}),
    "Upsample": frozenset({1}),
    "TopK": frozenset({1}),
    "OneHot": frozenset({1, 2}),
    "Dropout": frozenset({1, 2}),
    "CumSum": frozenset({1}),
    "NonMaxSuppression": frozenset({2, 3, 4}),
    "QuantizeLinear": frozenset({1, 2}),
    "DequantizeLinear": frozenset({1, 2}),
    "Trilu": frozenset({1}),
}


def param_role(op_type: str, index: int, numel: int) -> ParamKind | None:
    """Whether input `index` of an `op_type` node, when it is a stored constant of `numel`
    elements, is a parameter of that layer (and of which kind), or None.

    Weights of conv / dense / norm layers always are. Inputs acting as attributes never are.
    Any other stored constant (a bias added by an Add, a learned scale, the weights of an op
    zooprof has no rule for) is a parameter when it has more than one element: a scalar is
    an operator constant (`x / 8`), not a learned tensor.
    """
    weights = WEIGHT_INPUTS.get(op_type, {})
    if index in weights:
        return weights[index]
    if index in ATTRIBUTE_INPUTS.get(op_type, frozenset()):
        return None
    return "trainable" if numel > 1 else None


def map_node(view: NodeView, domain: str) -> tuple[OpKind, Attrs]:
    """(OpKind, attrs) for one node; OpKind.UNKNOWN when zooprof has no rule for it (or its
    attributes cannot be read), with the reason in attrs['unmapped']."""
    if domain not in ("", "ai.onnx"):
        return OpKind.UNKNOWN, {"unmapped": f"custom domain {domain}"}
    rule = OP_RULES.get(view.op_type)
    if rule is None:
        return OpKind.UNKNOWN, {}
    try:
        kind, attrs = rule(view)
    except (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError) as exc:
        return OpKind.UNKNOWN, {"unmapped": f"{view.op_type}: {exc}"}
    if kind in VIEW_OPS and view.op_type not in ALIASING_OPS:
        attrs = {**attrs, COPIES_ATTR: True}
    return kind, attrs
