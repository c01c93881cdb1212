"""NHWC layout in TFLite files: which tensors are images, and file order -> logical order.

TFLite stores images NHWC and conv weights OHWI (depthwise 1HWC); zooprof shows images as
N, C, H, W and conv weights as O, I, kH, kW, so the same model read from PyTorch, Keras or
TFLite compares equal. A rank-4 activation is an image when a spatial op (SPATIAL_OPS)
reads or writes it, when it is joined to one through a layout-preserving op
(LAYOUT_PRESERVING: element-wise ops, activations, pads, concatenation), or when it is a
model input read only by custom ops (an Edge TPU program). Also `fmt_shape`, the AxBxC
form of a shape in messages.
"""

from __future__ import annotations

from collections.abc import Sequence

from zooprof.frontends.tflite.opview import DATA_INPUT
from zooprof.frontends.tflite.schema import TflModel

Shape = tuple[int, ...]

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


def fmt_shape(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape)


def to_logical(shape: Shape) -> Shape:
    """NHWC -> N, C, H, W."""
    n, h, w, c = shape
    return (n, c, h, w)


def param_shape(name: str, i: int, shape: Shape) -> Shape:
    """Conv weights in the logical O, I, kH, kW order (stored OHWI / 1HWC)."""
    if len(shape) == 4 and i == 1:
        o, h, w, c = shape
        if name in ("CONV_2D", "TRANSPOSE_CONV"):
            return (o, c, h, w)
        if name == "DEPTHWISE_CONV_2D":
            return (c, o, h, w)
    return shape


def weight_derived(model: TflModel, const: set[int]) -> set[int]:
    """Outputs of ops that read only stored constants (a DEQUANTIZE of float16 weights)."""
    derived: set[int] = set()
    for op in model.ops:
        ins = [t for t in op.inputs if t >= 0]
        if ins and not model.is_custom(op) and all(t in const or t in derived for t in ins):
            derived.update(op.outputs)
    return derived


def image_tensors(model: TflModel, names: Sequence[str], const: set[int], derived: set[int]) -> set[int]:
    """Rank-4 tensors in NHWC image layout: those spatial ops read or write, and those
    joined to them through layout-preserving ops (element-wise, activations, pad, concat).
    `names` are the ops' names, `const` the stored constants, `derived` the weight-derived."""

    def activation4(t: int) -> bool:
        return t >= 0 and t not in const and t not in derived and len(model.tensors[t].shape) == 4

    image: set[int] = set()
    for op, name in zip(model.ops, names, strict=True):
        if name in SPATIAL_OPS:
            d = DATA_INPUT.get(name, 0)
            for t in ([op.inputs[d]] if d < len(op.inputs) else []) + list(op.outputs[:1]):
                if activation4(t):
                    image.add(t)
    for t in model.inputs:
        readers = [op for op in model.ops if t in op.inputs]
        if activation4(t) and readers and all(model.is_custom(op) for op in readers):
            image.add(t)  # an image fed to a custom op (an Edge TPU program): TFLite is NHWC
    preserving = [
        [t for t in op.inputs + op.outputs if activation4(t)]
        for op, name in zip(model.ops, names, strict=True)
        if name in LAYOUT_PRESERVING
    ]
    changed = True
    while changed:
        changed = False
        for ts in preserving:
            if any(t in image for t in ts) and not all(t in image for t in ts):
                image.update(ts)
                changed = True
    return image
