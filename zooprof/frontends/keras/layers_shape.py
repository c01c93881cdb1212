"""Layer handlers, tensor plumbing: the merge layers (Add, Multiply, Subtract, Average as
pairwise steps), Concatenate, Flatten, Reshape, Permute, ZeroPadding and Cropping (negative
padding), and the layers that do nothing at inference (Dropout and its kin, the Random*
augmentations). `HANDLERS` maps each Keras class name to its handler."""

from __future__ import annotations

from typing import Any

from zooprof.errors import ModelShapeError, UsageError
from zooprof.frontends.keras.builder import KTensor
from zooprof.frontends.keras.call import LayerCall, one_input
from zooprof.frontends.keras.shapes import broadcast, one_axis, spatial_axes
from zooprof.ir.graph import numel
from zooprof.ir.ops import OpKind


def _merge(op: OpKind) -> Any:
    def handler(c: LayerCall, inputs: list[KTensor]) -> KTensor:
        if len(inputs) < 2:
            raise UsageError(
                f"Keras layer '{c.shown}' ({c.cls}) needs two or more inputs, got {len(inputs)}",
                "the config may be damaged",
            )
        if op is OpKind.SUB and len(inputs) != 2:
            raise UsageError(
                f"Keras layer '{c.shown}' (Subtract) takes exactly two inputs", "the config may be damaged"
            )
        shape = broadcast([t.shape for t in inputs], c.shown)
        kind = OpKind.ADD if c.cls == "Average" else op
        acc = inputs[0]
        steps = len(inputs) - 1
        for i in range(steps):
            last = i == steps - 1 and c.cls != "Average"
            acc = c.emit(
                kind,
                [acc, inputs[i + 1]],
                broadcast([acc.shape, inputs[i + 1].shape], c.shown),
                suffix="" if last else f"/{i + 1}",
                source_op=c.cls if steps == 1 else f"{c.cls} ({i + 1}/{steps})",
            )
        if c.cls == "Average":
            acc = c.emit(OpKind.DIV, [acc], shape, {"divisor": len(inputs)}, source_op="Average (divide)")
        return acc

    return handler


def _concat(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    rank = len(inputs[0].shape)
    axis = one_axis(c.get("axis", -1), rank, c.where)
    shape = list(inputs[0].shape)
    for t in inputs[1:]:
        if len(t.shape) != rank or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, shape, strict=True)) if i != axis
        ):
            raise ModelShapeError(
                f"Keras layer '{c.shown}' (Concatenate): inputs "
                f"{[list(x.shape) for x in inputs]} differ outside axis {axis}"
            )
        shape[axis] += t.shape[axis]
    return c.emit(OpKind.CONCAT, inputs, tuple(shape), {"axis": c.b.logical_axis(axis, rank)})


def _flatten(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x = one_input(c, inputs)
    return c.emit(OpKind.FLATTEN, [x], (x.shape[0], numel(x.shape[1:])), {"start_dim": 1})


def _reshape(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x = one_input(c, inputs)
    target = [int(d) for d in c.get("target_shape", [])]
    total = numel(x.shape[1:])
    if target.count(-1) > 1:
        raise UsageError(f"Keras layer '{c.shown}' (Reshape): more than one -1 in {target}", "the config is invalid")
    if -1 in target:
        known = numel(tuple(d for d in target if d != -1))
        if known == 0 or total % known:
            raise ModelShapeError(f"Keras layer '{c.shown}' (Reshape): {total} values do not fit {target}")
        target[target.index(-1)] = total // known
    if numel(tuple(target)) != total:
        raise ModelShapeError(
            f"Keras layer '{c.shown}' (Reshape): the input has {total} values "
            f"({'x'.join(map(str, x.shape[1:]))}), the target shape {target} holds "
            f"{numel(tuple(target))}",
            "the model does not fit this input shape",
        )
    shape = (x.shape[0], *target)
    return c.emit(OpKind.RESHAPE, [x], shape, {"shape": list(c.b.logical(shape))})


def _permute(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x = one_input(c, inputs)
    dims = [int(d) for d in c.get("dims", [])]
    if sorted(dims) != list(range(1, len(x.shape))):
        raise UsageError(
            f"Keras layer '{c.shown}' (Permute): dims {dims} do not permute {len(x.shape) - 1} axes",
            "the config is invalid",
        )
    return c.emit(OpKind.PERMUTE, [x], (x.shape[0], *(x.shape[d] for d in dims)), {"dims": dims})


def _dropout(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x = one_input(c, inputs)
    return c.emit(OpKind.DROPOUT, [x], x.shape, {"rate": c.cfg.get("rate")})


def _identity(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x = one_input(c, inputs)
    return c.emit(OpKind.IDENTITY, [x], x.shape, {"note": "inactive at inference"})


def _pad_pairs(c: LayerCall, n: int, key: str) -> list[tuple[int, int]]:
    raw = c.cfg.get(key, 1)
    if isinstance(raw, int):
        return [(raw, raw)] * n
    out = []
    for p in raw:
        out.append((int(p), int(p)) if isinstance(p, int) else (int(p[0]), int(p[1])))
    if len(out) == 2 and n == 1 and all(isinstance(p, int) for p in raw):
        return [(int(raw[0]), int(raw[1]))]  # ZeroPadding1D(padding=(left, right))
    if len(out) != n:
        raise UsageError(f"Keras layer '{c.shown}': {key} {raw} does not fit {n} spatial axes", "the config is invalid")
    return out


def _zeropad(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    x = one_input(c, inputs)
    sp, _ = spatial_axes(len(x.shape), c.get("data_format"))
    pairs = _pad_pairs(c, len(sp), "padding")
    shape = list(x.shape)
    for a, (lo, hi) in zip(sp, pairs, strict=True):
        shape[a] += lo + hi
    return c.emit(OpKind.PAD, [x], tuple(shape), {"padding": [list(p) for p in pairs], "mode": "constant"})


def _crop(c: LayerCall, inputs: list[KTensor]) -> KTensor:
    """Cropping is negative padding: the receptive-field offset shrinks by the crop."""
    x = one_input(c, inputs)
    sp, _ = spatial_axes(len(x.shape), c.get("data_format"))
    pairs = _pad_pairs(c, len(sp), "cropping")
    shape = list(x.shape)
    for a, (lo, hi) in zip(sp, pairs, strict=True):
        shape[a] -= lo + hi
    return c.emit(OpKind.PAD, [x], tuple(shape), {"padding": [[-lo, -hi] for lo, hi in pairs], "mode": "crop"})


HANDLERS: dict[str, Any] = {
    "Add": _merge(OpKind.ADD),
    "Multiply": _merge(OpKind.MUL),
    "Subtract": _merge(OpKind.SUB),
    "Average": _merge(OpKind.ADD),
    "Concatenate": _concat,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Permute": _permute,
    "Dropout": _dropout,
    "SpatialDropout1D": _dropout,
    "SpatialDropout2D": _dropout,
    "SpatialDropout3D": _dropout,
    "GaussianDropout": _dropout,
    "GaussianNoise": _dropout,
    "AlphaDropout": _dropout,
    "ActivityRegularization": _identity,
    "RandomFlip": _identity,
    "RandomRotation": _identity,
    "RandomZoom": _identity,
    "RandomContrast": _identity,
    "RandomTranslation": _identity,
    "RandomBrightness": _identity,
    "ZeroPadding1D": _zeropad,
    "ZeroPadding2D": _zeropad,
    "ZeroPadding3D": _zeropad,
    "Cropping1D": _crop,
    "Cropping2D": _crop,
    "Cropping3D": _crop,
}
