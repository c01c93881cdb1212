"""ONNX op mapping: node op_type -> (OpKind, attrs), and which node inputs are weights.

Only this module and frontends/onnx.py know ONNX protos. The mappers read a node through
`NodeView`, which the reader fills with everything a mapper may need: attributes, the
shapes of the node's inputs (activations and initialisers alike), and the values of small
constant inputs (Clip bounds, reduction axes, pad widths).

The conventions of the attributes are those of the PyTorch frontend (torch_ops.py), so the
rules in zooprof/rules/ read both the same way: `kernel`, `stride`, `dilation` are tuples
over the spatial axes; `padding` is a tuple of ints when every axis pads symmetrically, else
a tuple of (before, after) pairs; `groups`, `in_channels`, `out_channels`, `bias`; `axis`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zooprof.ir.graph import ParamKind
from zooprof.ir.ops import OpKind

Attrs = dict[str, Any]
Mapped = tuple[OpKind, Attrs]
Shape = tuple[int, ...]


@dataclass
class NodeView:
    """What a mapper sees of one node.

    `shapes[i]` is the shape of input i (None when unknown or the input is absent);
    `values[i]` the value of input i as a flat list when it is a small constant, else None;
    `const[i]` whether input i is a constant (initialiser, Constant node or computed from
    shapes only); `out_shape` the shape of output 0.
    """

    op_type: str
    attrs: dict[str, Any]
    inputs: list[str]
    shapes: list[Shape | None]
    values: list[list[Any] | None]
    const: list[bool]
    out_shape: Shape | None
    opset: int
    notes: list[str] = field(default_factory=list)

    def attr(self, name: str, default: Any = None) -> Any:
        return self.attrs.get(name, default)

    def has(self, i: int) -> bool:
        return len(self.inputs) > i and self.inputs[i] != ""

    def shape(self, i: int) -> Shape | None:
        return self.shapes[i] if len(self.shapes) > i else None

    def value(self, i: int) -> list[Any] | None:
        return self.values[i] if len(self.values) > i else None


def _ints(v: Any) -> tuple[int, ...]:
    return tuple(int(x) for x in v)


def _spatial_rank(n: NodeView) -> int:
    x = n.shape(0)
    if x is not None:
        return max(len(x) - 2, 0)
    w = n.shape(1)
    if w is not None:
        return max(len(w) - 2, 0)
    return len(n.attr("kernel_shape", ()))


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
    pads = _ints(n.attr("pads", (0,) * (2 * r)))
    return pads[:r], pads[r:]


def padding_attr(begin: tuple[int, ...], end: tuple[int, ...]) -> Any:
    """Symmetric ints per axis when begin == end on every axis, else (before, after) pairs."""
    if begin == end:
        return tuple(begin)
    return tuple((b, e) for b, e in zip(begin, end, strict=True))


def _window(n: NodeView, kernel: tuple[int, ...]) -> Attrs:
    r = len(kernel)
    stride = _ints(n.attr("strides", (1,) * r))
    dilation = _ints(n.attr("dilations", (1,) * r))
    begin, end = _explicit_pads(n, kernel, stride, dilation)
    attrs: Attrs = {"kernel": kernel, "stride": stride, "padding": padding_attr(begin, end), "dilation": dilation}
    auto = n.attr("auto_pad", "NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto != "NOTSET":
        attrs["auto_pad"] = auto
    return attrs


def _conv(n: NodeView) -> Mapped:
    w = n.shape(1)
    if w is None:
        raise ValueError("Conv weight shape unknown")
    group = int(n.attr("group", 1))
    kernel = _ints(n.attr("kernel_shape", w[2:]))
    attrs = _window(n, kernel)
    attrs.update(groups=group, in_channels=int(w[1]) * group, out_channels=int(w[0]), bias=n.has(2))
    return OpKind.CONV, attrs


def _conv_transpose(n: NodeView) -> Mapped:
    w = n.shape(1)
    if w is None:
        raise ValueError("ConvTranspose weight shape unknown")
    group = int(n.attr("group", 1))
    kernel = _ints(n.attr("kernel_shape", w[2:]))
    r = len(kernel)
    stride = _ints(n.attr("strides", (1,) * r))
    dilation = _ints(n.attr("dilations", (1,) * r))
    pads = _ints(n.attr("pads", (0,) * (2 * r)))
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
        attrs["output_padding"] = _ints(n.attr("output_padding"))
    auto = n.attr("auto_pad", "NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto != "NOTSET":
        attrs["auto_pad"] = auto
    return OpKind.CONV_TRANSPOSE, attrs


def _gemm(n: NodeView) -> Mapped:
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


def _matmul(n: NodeView) -> Mapped:
    b = n.shape(1)
    if len(n.const) > 1 and n.const[1] and not n.const[0] and b is not None and len(b) == 2:
        return OpKind.DENSE, {"in_features": int(b[0]), "out_features": int(b[1]), "bias": False}
    return OpKind.MATMUL, {}


def _pool(kind: OpKind) -> Callable[[NodeView], Mapped]:
    def f(n: NodeView) -> Mapped:
        kernel = _ints(n.attr("kernel_shape"))
        attrs = _window(n, kernel)
        attrs["ceil_mode"] = bool(n.attr("ceil_mode", 0))
        if kind is OpKind.AVGPOOL:
            attrs.pop("dilation")
            attrs["count_include_pad"] = bool(n.attr("count_include_pad", 0))
        return kind, attrs

    return f


def _global_pool(kind: OpKind) -> Callable[[NodeView], Mapped]:
    return lambda n: (kind, {"output_size": (1,) * _spatial_rank(n)})


def _clip(n: NodeView) -> Mapped:
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


def _softmax(n: NodeView) -> Mapped:
    return OpKind.SOFTMAX, {"axis": int(n.attr("axis", -1 if n.opset >= 13 else 1))}


def _simple(kind: OpKind, **fixed: Any) -> Callable[[NodeView], Mapped]:
    return lambda n: (kind, dict(fixed))


def _with_attrs(kind: OpKind, **names: str) -> Callable[[NodeView], Mapped]:
    """Copy ONNX attributes to zooprof attribute names ({zooprof_name: onnx_name})."""

    def f(n: NodeView) -> Mapped:
        return kind, {ours: n.attr(theirs) for ours, theirs in names.items() if n.attr(theirs) is not None}

    return f


def _batchnorm(n: NodeView) -> Mapped:
    attrs: Attrs = {"eps": float(n.attr("epsilon", 1e-5))}
    if n.attr("training_mode"):
        attrs["training_mode"] = True
    return OpKind.BATCHNORM, attrs


def _layernorm(n: NodeView) -> Mapped:
    axis = int(n.attr("axis", -1))
    x = n.shape(0)
    attrs: Attrs = {"axis": axis, "eps": float(n.attr("epsilon", 1e-5))}
    if x is not None:
        attrs["normalized_shape"] = tuple(x[axis:])
    return OpKind.LAYERNORM, attrs


def _lrn(n: NodeView) -> Mapped:
    return OpKind.LRN, {
        "size": int(n.attr("size", 5)),
        "alpha": float(n.attr("alpha", 1e-4)),
        "beta": float(n.attr("beta", 0.75)),
        "k": float(n.attr("bias", 1.0)),
    }


def _concat(n: NodeView) -> Mapped:
    return OpKind.CONCAT, {"axis": int(n.attr("axis", 0))}


def _flatten(n: NodeView) -> Mapped:
    axis = int(n.attr("axis", 1))
    return OpKind.FLATTEN, {"axis": axis, "start_dim": axis, "end_dim": -1}


def _transpose(n: NodeView) -> Mapped:
    perm = n.attr("perm")
    return OpKind.PERMUTE, ({"perm": _ints(perm)} if perm is not None else {})


def _gather(n: NodeView) -> Mapped:
    """Gather from a constant table by activation indices is an embedding lookup: it writes a
    new tensor (COPY, the table is its parameter). Gather from an activation selects (SLICE)."""
    axis = int(n.attr("axis", 0))
    if n.const and n.const[0]:
        return OpKind.COPY, {"axis": axis, "lookup": True}
    return OpKind.SLICE, {"axis": axis}


def _pad(n: NodeView) -> Mapped:
    mode = n.attr("mode", "constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    attrs: Attrs = {"mode": mode}
    pads = n.value(1) if n.opset >= 11 else n.attr("pads")
    x = n.shape(0)
    if pads is not None and x is not None and n.opset >= 11 and n.has(3):
        axes = n.value(3)
        if axes is None:
            return OpKind.PAD, attrs
        full = [0] * (2 * len(x))
        half = len(pads) // 2
        for j, a in enumerate(axes):
            a = int(a) % len(x)
            full[a], full[a + len(x)] = int(pads[j]), int(pads[j + half])
        pads = full
    if pads is not None and x is not None and len(pads) == 2 * len(x):
        r = len(x)
        begin, end = _ints(pads[:r]), _ints(pads[r:])
        if r > 2 and begin[:2] == (0, 0) and end[:2] == (0, 0):
            begin, end = begin[2:], end[2:]  # spatial axes only, as the PyTorch frontend records them
        attrs["padding"] = tuple((b, e) for b, e in zip(begin, end, strict=True))
    return OpKind.PAD, attrs


def _reduce(kind: OpKind) -> Callable[[NodeView], Mapped]:
    """Axes come from the `axes` attribute (ReduceMean before opset 18, ReduceSum before 13) or
    the second input; no axes means every axis (unless noop_with_empty_axes)."""

    def f(n: NodeView) -> Mapped:
        attrs: Attrs = {"keepdims": bool(n.attr("keepdims", 1))}
        axes = n.attr("axes")
        if axes is None and n.has(1):
            axes = n.value(1)
            if axes is None:
                raise ValueError("reduction axes are not a constant")
        if axes is not None:
            attrs["axis"] = _ints(axes)
        elif n.attr("noop_with_empty_axes", 0):
            return OpKind.IDENTITY, {}
        return kind, attrs

    return f


def _split(n: NodeView) -> Mapped:
    return OpKind.SLICE, {"axis": int(n.attr("axis", 0))}


def _first(values: list[Any] | None) -> Any:
    return values[0] if values else None


def nms_attrs(
    center_point_box: int, max_boxes: Any, iou: Any, score: Any, boxes_shape: Shape | None, scores_shape: Shape | None
) -> Attrs:
    """NonMaxSuppression's configuration: thresholds and limits (constant inputs), candidate
    boxes and classes (from the input shapes). A value that is not a constant is left out."""
    attrs: Attrs = {"center_point_box": int(center_point_box)}
    for key, value in (("max_output_boxes_per_class", max_boxes), ("iou_threshold", iou), ("score_threshold", score)):
        if value is not None:
            attrs[key] = int(value) if key.startswith("max") else round(float(value), 6)
    if boxes_shape and len(boxes_shape) == 3:
        attrs["boxes"] = int(boxes_shape[1])
    if scores_shape and len(scores_shape) == 3:
        attrs["classes"] = int(scores_shape[1])
    return attrs


def _nms(n: NodeView) -> Mapped:
    """Post-processing: the work depends on how many boxes pass (rules/detection.py)."""
    return OpKind.NMS, nms_attrs(
        n.attr("center_point_box", 0),
        _first(n.value(2)),
        _first(n.value(3)),
        _first(n.value(4)),
        n.shape(0),
        n.shape(1),
    )


def _resize(n: NodeView) -> Mapped:
    """Resize / Upsample: nearest, or linear on two spatial axes (bilinear); cubic and linear
    over other ranks have no rule and stay unknown (a ValueError here)."""
    raw = n.attr("mode", "nearest")
    mode = raw.decode() if isinstance(raw, bytes) else str(raw)
    if mode == "nearest":
        return OpKind.RESIZE, {"mode": "nearest"}
    if mode in ("linear", "bilinear") and _spatial_rank(n) == 2:
        return OpKind.RESIZE, {"mode": "bilinear"}
    raise ValueError(f"mode {mode!r} on {_spatial_rank(n)} spatial axes has no rule")


def _sum(n: NodeView) -> Mapped:
    if len([i for i in n.inputs if i]) == 2:
        return OpKind.ADD, {}
    return OpKind.UNKNOWN, {}


#: ONNX op_type (default domain) -> mapper. Anything missing maps to OpKind.UNKNOWN.
OP_RULES: dict[str, Callable[[NodeView], Mapped]] = {
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "BatchNormalization": _batchnorm,
    "LayerNormalization": _layernorm,
    "InstanceNormalization": _with_attrs(OpKind.INSTANCENORM, eps="epsilon"),
    "GroupNormalization": _with_attrs(OpKind.GROUPNORM, num_groups="num_groups", eps="epsilon"),
    "LRN": _lrn,
    "Relu": _simple(OpKind.RELU),
    "Clip": _clip,
    "LeakyRelu": lambda n: (OpKind.LEAKY_RELU, {"alpha": float(n.attr("alpha", 0.01))}),
    "Sigmoid": _simple(OpKind.SIGMOID),
    "Tanh": _simple(OpKind.TANH),
    "HardSigmoid": lambda n: (
        OpKind.HARDSIGMOID,
        {"alpha": float(n.attr("alpha", 0.2)), "beta": float(n.attr("beta", 0.5))},
    ),
    "HardSwish": _simple(OpKind.HARDSWISH),
    "Gelu": _with_attrs(OpKind.GELU, approximate="approximate"),
    "Elu": lambda n: (OpKind.ELU, {"alpha": float(n.attr("alpha", 1.0))}),
    "Softmax": _softmax,
    "LogSoftmax": _softmax,
    "MaxPool": _pool(OpKind.MAXPOOL),
    "AveragePool": _pool(OpKind.AVGPOOL),
    "GlobalAveragePool": _global_pool(OpKind.ADAPTIVE_AVGPOOL),
    "GlobalMaxPool": _global_pool(OpKind.ADAPTIVE_MAXPOOL),
    "Add": _simple(OpKind.ADD),
    "Sub": _simple(OpKind.SUB),
    "Mul": _simple(OpKind.MUL),
    "Div": _simple(OpKind.DIV),
    "Sum": _sum,
    "Concat": _concat,
    "Flatten": _flatten,
    "Reshape": _simple(OpKind.RESHAPE),
    "Squeeze": _simple(OpKind.RESHAPE),
    "Unsqueeze": _simple(OpKind.RESHAPE),
    "Expand": _simple(OpKind.RESHAPE),
    "Transpose": _transpose,
    "Slice": _simple(OpKind.SLICE),
    "Gather": _gather,
    "GatherElements": _simple(OpKind.SLICE),
    "GatherND": _simple(OpKind.SLICE),
    "Split": _split,
    "Pad": _pad,
    "Dropout": _simple(OpKind.DROPOUT),
    "Identity": _simple(OpKind.IDENTITY),
    "Cast": _simple(OpKind.COPY),
    "CastLike": _simple(OpKind.COPY),
    "Tile": _simple(OpKind.COPY),
    "DepthToSpace": _simple(OpKind.COPY),
    "SpaceToDepth": _simple(OpKind.COPY),
    "ReduceMean": _reduce(OpKind.MEAN),
    "ReduceSum": _reduce(OpKind.SUM),
    "NonMaxSuppression": _nms,
    "Resize": _resize,
    "Upsample": _resize,
}

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
        return rule(view)
    except (ValueError, TypeError, IndexError, KeyError, ZeroDivisionError) as exc:
        return OpKind.UNKNOWN, {"unmapped": f"{view.op_type}: {exc}"}
