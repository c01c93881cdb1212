"""ONNX op mappers for tensor plumbing and post-processing: concat, flatten, transpose,
gather, pad, reductions, split, resize, NonMaxSuppression, Sum (`NodeView -> (OpKind, attrs)`,
see ops_view.py), and `nms_attrs`, NMS's configuration, which the reader also uses for NMS
nodes inside control-flow subgraphs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zooprof.frontends.onnx.ops_view import Attrs, Mapped, NodeView, Shape, ints, spatial_rank
from zooprof.ir.ops import OpKind


def map_concat(n: NodeView) -> Mapped:
    return OpKind.CONCAT, {"axis": int(n.attr("axis", 0))}


def map_flatten(n: NodeView) -> Mapped:
    axis = int(n.attr("axis", 1))
    return OpKind.FLATTEN, {"axis": axis, "start_dim": axis, "end_dim": -1}


def map_transpose(n: NodeView) -> Mapped:
    perm = n.attr("perm")
    return OpKind.PERMUTE, ({"perm": ints(perm)} if perm is not None else {})


def map_gather(n: NodeView) -> Mapped:
    """Gather from a constant table by activation indices is an embedding lookup: it writes a
    new tensor (COPY, the table is its parameter). Gather from an activation selects (SLICE)."""
    axis = int(n.attr("axis", 0))
    if n.const and n.const[0]:
        return OpKind.COPY, {"axis": axis, "lookup": True}
    return OpKind.SLICE, {"axis": axis}


def map_pad(n: NodeView) -> Mapped:
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
        begin, end = ints(pads[:r]), ints(pads[r:])
        if r > 2 and begin[:2] == (0, 0) and end[:2] == (0, 0):
            begin, end = begin[2:], end[2:]  # spatial axes only, as the PyTorch frontend records them
        attrs["padding"] = tuple((b, e) for b, e in zip(begin, end, strict=True))
    return OpKind.PAD, attrs


def map_reduce(kind: OpKind) -> Callable[[NodeView], Mapped]:
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
            attrs["axis"] = ints(axes)
        elif n.attr("noop_with_empty_axes", 0):
            return OpKind.IDENTITY, {}
        return kind, attrs

    return f


def map_split(n: NodeView) -> Mapped:
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


def map_nms(n: NodeView) -> Mapped:
    """Post-processing: the work depends on how many boxes pass (rules/detection.py)."""
    return OpKind.NMS, nms_attrs(
        n.attr("center_point_box", 0),
        _first(n.value(2)),
        _first(n.value(3)),
        _first(n.value(4)),
        n.shape(0),
        n.shape(1),
    )


def map_resize(n: NodeView) -> Mapped:
    """Resize / Upsample: nearest, or linear on two spatial axes (bilinear); cubic and linear
    over other ranks have no rule and stay unknown (a ValueError here)."""
    raw = n.attr("mode", "nearest")
    mode = raw.decode() if isinstance(raw, bytes) else str(raw)
    if mode == "nearest":
        return OpKind.RESIZE, {"mode": "nearest"}
    if mode in ("linear", "bilinear") and spatial_rank(n) == 2:
        return OpKind.RESIZE, {"mode": "bilinear"}
    raise ValueError(f"mode {mode!r} on {spatial_rank(n)} spatial axes has no rule")


def map_grid_sample(n: NodeView) -> Mapped:
    """GridSample (opset 16: bilinear/nearest/bicubic; opset 20: linear/nearest/cubic, any rank):
    nearest or linear on a 4-D input; cubic and volumes have no rule (a ValueError here)."""
    raw = n.attr("mode", "bilinear" if n.opset < 20 else "linear")
    mode = raw.decode() if isinstance(raw, bytes) else str(raw)
    if spatial_rank(n) != 2:
        raise ValueError(f"GridSample on {spatial_rank(n)} spatial axes has no rule")
    if mode == "nearest":
        return OpKind.GRID_SAMPLE, {"mode": "nearest"}
    if mode in ("linear", "bilinear"):
        return OpKind.GRID_SAMPLE, {"mode": "bilinear"}
    raise ValueError(f"GridSample mode {mode!r} has no rule")


def map_sum(n: NodeView) -> Mapped:
    if len([i for i in n.inputs if i]) == 2:
        return OpKind.ADD, {}
    return OpKind.UNKNOWN, {}
