"""Shapes a TFLite file leaves dynamic, propagated from the ops that produce them (pure Python).

A converted Keras model keeps its batch dynamic: every activation's shape signature starts
with -1 and its stored shape with a placeholder 1. That placeholder is the batch only while
the first axis is the batch. Keras 3 lowers a Dense layer on an image to
`RESHAPE [N*H*W, C] -> FULLY_CONNECTED -> RESHAPE [N, H, W, units]`, and the rows of that
FULLY_CONNECTED (signature [-1, units]) are N x H x W, not 1: taking the stored shape counts
one row instead of H x W (ConvNeXtTiny: 0.32 G MACs instead of 4.46 G).

`propagate` walks the ops in execution order and computes the output shape of every op that
writes a tensor whose signature has a -1, or that reads a tensor whose shape is not the
stored one: from the shapes of its inputs and from the values of small integer tensors,
which it tracks too (a RESHAPE's target is a constant, or is computed with SHAPE, GATHER,
REDUCE_PROD, PACK, CONCATENATION, STRIDED_SLICE on the producer's shape). An op it has no
shape rule for leaves such a tensor unresolved: the caller measures those with the LiteRT
interpreter (zooprof.frontends.tflite.read), and never takes a placeholder for a size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from zooprof.frontends.tflite.schema import TflModel
from zooprof.ir.graph import numel

Shape = tuple[int, ...]

#: ops whose output has the shape of their (first) input
SAME_SHAPE = frozenset(
    {
        "ABS",
        "CAST",
        "DEQUANTIZE",
        "ELU",
        "EXP",
        "FLOOR",
        "GELU",
        "HARD_SWISH",
        "LEAKY_RELU",
        "LOG",
        "LOG_SOFTMAX",
        "LOGISTIC",
        "NEG",
        "QUANTIZE",
        "RELU",
        "RELU6",
        "RELU_0_TO_1",
        "RELU_N1_TO_1",
        "ROUND",
        "RSQRT",
        "SOFTMAX",
        "SQRT",
        "SQUARE",
        "TANH",
    }
)
#: element-wise ops on two inputs, broadcast as numpy does
BROADCAST = frozenset({"ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "POW", "PRELU"})
#: reductions: axes in input 1, keep_dims in the options
REDUCE = frozenset({"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"})


def broadcast(shapes: Sequence[Shape]) -> Shape | None:
    """The numpy broadcast of `shapes`, or None when they do not broadcast."""
    rank = max(len(s) for s in shapes)
    out = []
    for dims in zip(*((1,) * (rank - len(s)) + tuple(s) for s in shapes), strict=True):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            return None
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


class Propagation:
    """One pass over the ops: shapes and small integer values of the tensors it computes."""

    def __init__(self, model: TflModel, names: Sequence[str], const: set[int], stored: Callable[[int], Shape]) -> None:
        self.m = model
        self.names = names
        self.stored = stored  # the shape the reader takes without propagation (the batch applied)
        self.shapes: dict[int, Shape] = {}
        self.values: dict[int, list[int]] = {}
        self.unresolved: set[int] = set()
        for t in const:
            tensor = model.tensors[t]
            if tensor.type_code in (2, 4, 6, 9) and numel(tensor.shape) <= 16:  # int32, int64, bool, int8
                v = model.values(t)
                if v is not None:
                    self.values[t] = [int(x) for x in v]

    def shape(self, t: int) -> Shape:
        return self.shapes.get(t, self.stored(t))

    def dynamic(self, t: int) -> bool:
        sig = self.m.tensors[t].signature
        return bool(sig) and any(d < 0 for d in sig)  # type: ignore[union-attr]

    def fits(self, t: int, shape: Shape) -> bool:
        """A computed shape agrees with the file where the file fixes a dimension."""
        sig = self.m.tensors[t].signature or self.stored(t)
        return len(shape) == len(sig) and all(s < 0 or s == d for s, d in zip(sig, shape, strict=True))

    def run(self) -> tuple[dict[int, Shape], list[int]]:
        """(the computed shapes that differ from the stored ones, the tensors left unresolved)."""
        for op, name in zip(self.m.ops, self.names, strict=True):
            if self.m.is_custom(op):
                continue
            ins = [t for t in op.inputs if t >= 0]
            outs = [t for t in op.outputs if t >= 0]
            unknown_in = any(t in self.unresolved for t in ins)
            moved = unknown_in or any(t in self.shapes for t in ins)
            if not unknown_in and len(outs) == 1:
                value = self.value(name, op.inputs, op.options)
                if value is not None:
                    self.values[outs[0]] = value
            wanted = [t for t in outs if self.dynamic(t) or moved]
            if not wanted:
                continue
            computed = None if unknown_in else self.infer(name, op.inputs, op.options)
            for i, t in enumerate(outs):
                if t not in wanted:
                    continue
                shape = computed if i == 0 else None
                if shape is not None and self.fits(t, shape):
                    if shape != self.stored(t):
                        self.shapes[t] = shape
                elif self.dynamic(t) and (moved or any(d < 0 for d in (self.m.tensors[t].signature or ())[1:])):
                    self.unresolved.add(t)  # a size the file leaves open, and no rule for it here
        return dict(self.shapes), sorted(self.unresolved)

    # ---------------------------------------------------------------- shapes
    def infer(self, name: str, inputs: Sequence[int], options: Any) -> Shape | None:
        ins = [self.shape(t) if t >= 0 else None for t in inputs]
        if not ins or ins[0] is None:
            return None
        x = ins[0]
        if name in SAME_SHAPE:
            return x
        if name in BROADCAST and len(ins) >= 2 and ins[1] is not None:
            return broadcast([x, ins[1]])
        if name == "FULLY_CONNECTED" and len(ins) >= 2 and ins[1] is not None and len(ins[1]) == 2:
            units, k = ins[1]
            if options is not None and bool(options.scalar(2, "<B", 0)):  # keep_num_dims
                return (*x[:-1], units)
            return (numel(x) // k, units) if k and numel(x) % k == 0 else None
        if name == "RESHAPE":
            target = self.values.get(inputs[1]) if len(inputs) > 1 and inputs[1] >= 0 else None
            if target is None and options is not None:
                target = options.ints(0)
            return reshaped(x, target)
        if name in REDUCE and len(inputs) > 1:
            axes = self.values.get(inputs[1])
            if axes is None:
                return None
            keep = options is not None and bool(options.scalar(0, "<B", 0))
            drop = {a % len(x) for a in axes} if x else set()
            return tuple(1 if i in drop else d for i, d in enumerate(x) if keep or i not in drop)
        if name == "CONCATENATION" and all(s is not None and len(s) == len(x) for s in ins):
            axis = int(options.scalar(0, "<i", 0)) % len(x) if options is not None and x else 0
            total = sum(s[axis] for s in ins)  # type: ignore[index]
            return (*x[:axis], total, *x[axis + 1 :])
        if name == "BATCH_MATMUL" and len(ins) >= 2 and ins[1] is not None and len(x) >= 2 and len(ins[1]) >= 2:
            y = ins[1]
            adj_x = options is not None and bool(options.scalar(0, "<B", 0))
            adj_y = options is not None and bool(options.scalar(1, "<B", 0))
            batch = broadcast([x[:-2], y[:-2]])
            if batch is None:
                return None
            return (*batch, x[-1] if adj_x else x[-2], y[-2] if adj_y else y[-1])
        if name == "TRANSPOSE" and len(inputs) > 1:
            perm = self.values.get(inputs[1])
            return tuple(x[p] for p in perm) if perm is not None and sorted(perm) == list(range(len(x))) else None
        if name == "SHAPE":
            return (len(x),)
        return None

    # ---------------------------------------------------------------- integer values
    def value(self, name: str, inputs: Sequence[int], options: Any) -> list[int] | None:
        """The values of a small integer tensor computed from a shape (Tensordot's reshapes)."""
        if name == "SHAPE":
            return list(self.shape(inputs[0]))
        vals = [self.values.get(t) if t >= 0 else None for t in inputs]
        if any(v is None for v in vals) or not vals:
            return None
        v: list[list[int]] = vals  # type: ignore[assignment]
        if name == "CAST":
            return v[0]
        if name == "GATHER" and len(v) == 2 and (options is None or int(options.scalar(0, "<i", 0)) == 0):
            return [v[0][i] for i in v[1]] if all(-len(v[0]) <= i < len(v[0]) for i in v[1]) else None
        if name == "REDUCE_PROD" and len(v) == 2:
            out = 1
            for d in v[0]:
                out *= d
            return [out]
        if name in ("PACK", "CONCATENATION"):
            return [d for part in v for d in part]
        if name == "STRIDED_SLICE" and len(v) == 4 and options is not None:
            return strided(v[0], v[1][0], v[2][0], v[3][0], options)
        return None


def strided(values: list[int], begin: int, end: int, step: int, options: Any) -> list[int] | None:
    """A 1-D STRIDED_SLICE (begin_mask 0, end_mask 1, shrink_axis_mask 4 in StridedSliceOptions)."""
    if step == 0:
        return None
    begin_mask, end_mask, shrink = (int(options.scalar(i, "<i", 0)) & 1 for i in (0, 1, 4))
    if shrink:
        return [values[begin]] if -len(values) <= begin < len(values) else None
    return values[slice(None if begin_mask else begin, None if end_mask else end, step)]


def reshaped(x: Shape, target: Sequence[int] | None) -> Shape | None:
    """A RESHAPE's output: the target with its one -1 filled in, when the element counts agree."""
    if target is None:
        return None
    dims = [int(d) for d in target]
    if dims.count(-1) > 1:
        return None
    if -1 in dims:
        known = numel(tuple(d for d in dims if d != -1))
        if known <= 0 or numel(x) % known:
            return None
        dims[dims.index(-1)] = numel(x) // known
    return tuple(dims) if numel(tuple(dims)) == numel(x) else None


def propagate(
    model: TflModel, names: Sequence[str], const: set[int], stored: Callable[[int], Shape]
) -> tuple[dict[int, Shape], list[int]]:
    """(shapes computed from the producers that differ from what `stored` gives, tensors whose
    shape could not be computed and is not fixed by the file); see the module docstring."""
    return Propagation(model, names, const, stored).run()
