"""torchvision detection models (SSD, SSDlite, RetinaNet, Faster R-CNN, Mask R-CNN, Keypoint R-CNN, FCOS) -> Graph.

A detector takes a list of 3xHxW images, resizes and normalises them inside
(GeneralizedRCNNTransform), and ends in data-dependent post-processing: score thresholds,
top-k and NMS, whose output sizes depend on the values. Meta tensors have no values, so a
detector is read on CPU tensors with random weights (torch.manual_seed(0)) and seeded random
images, through the same module hooks + aten dispatch recorder as other models
(frontends/torch/dispatch.py). Each post-processing function becomes one layer (its aten ops and box
counts in the attributes); every layer gets its stage; the RoI box head is marked as costing
per proposal, the mask and keypoint heads per detection, with the counts of this run. See
docs/detection.md.

`--input-shape NxCxHxW` means N images of CxHxW; several shapes (comma-separated) give
images of different sizes in one list.
"""

from __future__ import annotations

import sys
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

import torch
from torch import nn

from zooprof.frontends.torch import ops as torch_ops
from zooprof.frontends.torch.builder import GraphBuilder
from zooprof.frontends.torch.dispatch import DispatchRecorder, layer_hooks
from zooprof.ir.graph import Graph, Layer
from zooprof.ir.ops import OpKind
from zooprof.ir.stages import ROI_PARTS, roi_part_of_scope, stage_of_scope
from zooprof.reference.shapes import check_image_shapes

Shape = tuple[int, ...]

#: Module paths that start a stage (the stage timer and the docs use the same table);
#: a nested entry (backbone.extra inside backbone) takes its time from its parent.
STAGE_MODULES: tuple[tuple[str, str], ...] = (
    ("transform", "transform"),
    ("backbone", "backbone"),
    ("backbone.body", "backbone"),
    ("backbone.features", "backbone"),
    ("backbone.fpn", "neck"),
    ("backbone.extra", "neck"),
    ("anchor_generator", "head"),
    ("head", "head"),
    ("rpn", "head"),
    ("roi_heads", "head"),
)

#: Post-processing functions (owner path, method, data-dependent). Each is read as one layer
#: and timed as the postprocess stage. Box decoding of the RPN runs once per anchor: fixed.
POSTPROCESS_FUNCTIONS: tuple[tuple[str, str, bool], ...] = (
    ("rpn.box_coder", "decode", False),
    ("rpn", "filter_proposals", True),
    ("roi_heads", "postprocess_detections", True),
    ("", "postprocess_detections", True),  # SSD, SSDlite, RetinaNet, FCOS
    ("transform", "postprocess", True),  # boxes back to each input image's size
)

#: Post-processing functions that are globals of the module defining their owner's class: RoIHeads.forward
#: calls them by name, so they are wrapped there (owner path, function, the owner's attribute that must be
#: set for it to run). Mask R-CNN picks each detection's class mask; Keypoint R-CNN finds the keypoints in
#: the heatmaps, resizing each to its box (sizes depend on the boxes).
POSTPROCESS_GLOBALS: tuple[tuple[str, str, str], ...] = (
    ("roi_heads", "maskrcnn_inference", "mask_predictor"),
    ("roi_heads", "keypointrcnn_inference", "keypoint_predictor"),
)

#: Configuration read from the owner of a post-processing function, for the report.
CONFIG_ATTRS = (
    "score_thresh",
    "nms_thresh",
    "topk_candidates",
    "detections_per_img",
    "min_size",
    "bbox_xform_clip",
    "weights",
)

TRACE_METHOD = "detection: hooks+dispatch on CPU tensors (random weights, seed 0)"


def is_detector(model: Any) -> bool:
    """A torchvision-style detector: it owns a GeneralizedRCNNTransform (matched by name, no import)."""
    return type(getattr(model, "transform", None)).__name__ == "GeneralizedRCNNTransform"


def native_shape(model: Any) -> Shape:
    """One image at the size the model's transform resizes to (SSD: fixed; R-CNN: min_size)."""
    t = model.transform
    fixed = getattr(t, "fixed_size", None)
    if fixed:
        return (1, len(t.image_mean), int(fixed[0]), int(fixed[1]))
    size = int(t.min_size[-1])
    return (1, len(t.image_mean), size, size)


def images(shapes: list[Shape]) -> list[torch.Tensor]:
    """The image list for NxCxHxW shapes: uniform random values in [0, 1) from a generator seeded
    with 0, drawn as zooprof.runtimes.torch_rt.example_inputs draws them (same values)."""
    gen = torch.Generator().manual_seed(0)
    out: list[torch.Tensor] = []
    for shape in shapes:
        out.extend(torch.rand(shape, generator=gen).unbind(0))
    return out


def _owner(model: nn.Module, path: str) -> Any:
    obj: Any = model
    for part in filter(None, path.split(".")):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def postprocess_functions(model: nn.Module) -> list[tuple[Any, str, str, bool]]:
    """(owner object, method name, layer label, data-dependent) for each post-processing
    function this model has; the owner of a global function is its Python module (wrap it with
    `patch`, whose undo puts the function back)."""
    out = []
    for path, attr, dependent in POSTPROCESS_FUNCTIONS:
        owner = _owner(model, path)
        if owner is not None and callable(getattr(owner, attr, None)):
            out.append((owner, attr, f"{path}.{attr}" if path else attr, dependent))
    for path, attr, needs in POSTPROCESS_GLOBALS:
        owner = _owner(model, path)
        module = sys.modules.get(type(owner).__module__) if owner is not None else None
        if getattr(owner, needs, None) is not None and callable(getattr(module, attr, None)):
            out.append((module, attr, f"{path}.{attr}", True))
    return out


_MISSING = object()


def patch(owner: Any, attr: str, replacement: Any) -> Callable[[], None]:
    """Set `owner.attr` (an instance's method or a module's function); the undo restores what was
    there: the module's own function, or no instance attribute (the class's method shows again)."""
    own = vars(owner).get(attr, _MISSING)
    setattr(owner, attr, replacement)

    def undo() -> None:
        if own is _MISSING:
            delattr(owner, attr)
        else:
            setattr(owner, attr, own)

    return undo


def stage_modules(model: nn.Module) -> list[tuple[str, nn.Module, str]]:
    modules = dict(model.named_modules())
    return [(path, modules[path], stage) for path, stage in STAGE_MODULES if path in modules]


def config_of(owner: Any) -> dict[str, Any]:
    """Thresholds and limits of a post-processing step (plain numbers only)."""
    out: dict[str, Any] = {}
    for key in CONFIG_ATTRS:
        v = getattr(owner, key, None)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = v
        elif isinstance(v, (tuple, list)) and all(isinstance(x, (int, float)) for x in v):
            out[key] = tuple(v)
    for method in ("pre_nms_top_n", "post_nms_top_n"):  # the RPN's limits for the current mode
        fn = getattr(owner, method, None)
        if callable(fn):
            out[method] = int(fn())
    return out


def count_boxes(value: Any) -> int:
    """Boxes in a post-processing result: [{"boxes": ...}], (boxes list, scores list) or a tensor."""
    if isinstance(value, torch.Tensor):
        return int(value.shape[0]) if value.dim() else 0
    if isinstance(value, dict):
        return count_boxes(value["boxes"]) if "boxes" in value else 0
    if isinstance(value, tuple) and value and isinstance(value[0], list):
        return count_boxes(value[0])
    if isinstance(value, (list, tuple)):
        return sum(count_boxes(v) for v in value)
    return 0


# --------------------------------------------------------------------------------------
# building


def torchvision_detector(model: str, coco_layout: bool = False, **kwargs: Any) -> nn.Module:
    """A torchvision detection model without weights (neither its own nor the backbone's).

    `coco_layout`: the layout of torchvision's COCO checkpoints, which the builders use only
    when weights are given: FrozenBatchNorm2d in the backbone (its scale and shift are
    buffers, not parameters) and the first backbone layers frozen (3 trainable stages).
    torchvision's `num_params` metadata counts this layout.
    """
    import torchvision

    kwargs.setdefault("weights", None)
    kwargs.setdefault("weights_backbone", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = torchvision.models.get_model(model, **kwargs)
    if coco_layout:
        to_coco_layout(net)
    return net


def to_coco_layout(net: nn.Module, trainable_layers: int = 3) -> None:
    """BatchNorm2d -> FrozenBatchNorm2d in backbone.body, and freeze the layers torchvision
    freezes when it loads COCO weights (backbone_utils._resnet_fpn_extractor and
    _mobilenet_extractor with trainable_backbone_layers=3)."""
    from torchvision.ops.misc import FrozenBatchNorm2d

    body = net.backbone.body
    for module in list(body.modules()):
        for child_name, child in list(module.named_children()):
            if type(child) is nn.BatchNorm2d:
                setattr(module, child_name, FrozenBatchNorm2d(child.num_features))
    if hasattr(body, "layer1"):  # ResNet
        train = ["layer4", "layer3", "layer2", "layer1", "conv1"][:trainable_layers]
        for name, p in body.named_parameters():
            if not any(name.startswith(layer) for layer in train):
                p.requires_grad_(False)
        return
    blocks = list(body.children())  # MobileNet: the feature blocks in order
    stages = [0] + [i for i, b in enumerate(blocks) if getattr(b, "_is_cn", False)] + [len(blocks) - 1]
    freeze_before = stages[len(stages) - trainable_layers] if trainable_layers else len(blocks)
    for block in blocks[:freeze_before]:
        for p in block.parameters():
            p.requires_grad_(False)


# --------------------------------------------------------------------------------------
# reading


@dataclass
class _Call:
    """A post-processing function call in progress: the aten ops it ran and its NMS box counts."""

    ops: Counter[str] = field(default_factory=Counter)
    nms_calls: int = 0
    nms_in: int = 0
    nms_kept: int = 0


class _Recorder(DispatchRecorder):
    """The dispatch recorder, plus what runs inside post-processing functions."""

    def __init__(self, builder: GraphBuilder, input_shapes: list[Shape]) -> None:
        super().__init__(builder, input_shapes)
        self.calls: list[_Call] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        out = super().__torch_dispatch__(func, types, args, kwargs)
        if self.calls:
            name, _ = torch_ops.op_name(func)
            call = self.calls[-1]
            call.ops[name] += 1
            if name == "nms":
                call.nms_calls += 1
                call.nms_in += int(args[0].shape[0])
                call.nms_kept += int(out.shape[0])
        return out


def _wrap(
    rec: _Recorder, builder: GraphBuilder, owner: Any, attr: str, label: str, dependent: bool
) -> Callable[[], None]:
    """Record a post-processing function as one layer; returns the undo."""
    original = getattr(owner, attr)
    where = owner.__name__.rsplit(".", 1)[-1] if isinstance(owner, ModuleType) else type(owner).__name__
    source = f"{where}.{attr}"  # RoIHeads.postprocess_detections, roi_heads.maskrcnn_inference

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        call = _Call()
        rec.calls.append(call)
        rec.scope.append(label)
        rec.suppress += 1
        try:
            out = original(*args, **kwargs)
        finally:
            rec.suppress -= 1
            rec.scope.pop()
            rec.calls.pop()
        if rec.suppress == 0:
            boxes_out = count_boxes(out)
            attrs: dict[str, Any] = {"function": source, **config_of(owner)}
            if call.nms_calls:
                attrs.update(nms_calls=call.nms_calls, boxes_into_nms=call.nms_in, boxes_kept_by_nms=call.nms_kept)
            attrs.update(boxes_out=boxes_out, aten_ops=dict(call.ops), stage="postprocess")
            if dependent:
                attrs.update(data_dependent="box", count=call.nms_in if call.nms_calls else boxes_out)
            builder.emit(label, label, source, OpKind.DETECTION_POSTPROCESS, attrs, (args, kwargs), out)
        return out

    return patch(owner, attr, wrapper)


def trace_detector(model: nn.Module, shapes: list[Shape], name: str) -> Graph:
    """Run a real (CPU) detector on seeded images under the recorder; stages and per-proposal
    marks added to each layer's attributes."""
    imgs = images(shapes)
    builder = GraphBuilder(model)
    for i, img in enumerate(imgs):
        builder.add_input(img, "image" if len(imgs) == 1 else f"image_{i}")
    rec = _Recorder(builder, [tuple(s) for s in shapes])
    seen: dict[str, Any] = {}
    undo: list[Callable[[], None]] = []
    handles = layer_hooks(model, rec, builder)
    handles.append(
        model.transform.register_forward_hook(
            lambda m, a, out: seen.update(
                batch=tuple(out[0].tensors.shape),
                sizes=[tuple(s) for s in out[0].image_sizes],
                batch_name=builder.names.get(out[0].tensors._cdata),
            )
        )
    )
    counts: dict[str, int] = {}  # per RoI part: the proposals or detections its first module was given
    for part, _, paths in ROI_PARTS:
        first = _owner(model, paths[0])
        if isinstance(first, nn.Module):
            handles.append(first.register_forward_pre_hook(_counter(counts, part)))
    for owner, attr, label, dependent in postprocess_functions(model):
        undo.append(_wrap(rec, builder, owner, attr, label, dependent))
    try:
        with rec, torch.no_grad():
            out = model(imgs)
    finally:
        for h in handles:
            h.remove()
        for u in undo:
            u()
    notes = _notes(shapes, seen, counts)
    graph = builder.graph(name, out, TRACE_METHOD, notes)
    return replace(graph, layers=tuple(_staged(layer, counts, seen.get("batch_name")) for layer in graph.layers))


def _counter(counts: dict[str, int], part: str) -> Callable[[nn.Module, tuple], None]:
    """A forward pre-hook on a RoI part's first module (RoIHeads, a RoI pool), whose second argument
    is the boxes per image: the part's count of this run."""

    def hook(module: nn.Module, args: tuple) -> None:
        counts[part] = sum(int(b.shape[0]) for b in args[1])

    return hook


def _staged(layer: Layer, counts: dict[str, int], batch_name: str | None) -> Layer:
    """The layer with its stage; a RoI-head layer with its part, unit (per proposal for the box head,
    per detection for the mask and keypoint heads) and this run's count."""
    attrs = dict(layer.attrs)
    if batch_name is not None and layer.output.name == batch_name:
        attrs["rf_origin"] = True  # receptive fields in pixels of the resized, batched images
    attrs.setdefault("stage", stage_of_scope(layer.scope))
    part = roi_part_of_scope(layer.scope)
    if part is not None and "data_dependent" not in attrs and attrs["stage"] == "head":
        attrs.update(part=part[0], data_dependent=part[1], count=counts.get(part[0]))
    return replace(layer, attrs=attrs)


def _notes(shapes: list[Shape], seen: dict[str, Any], counts: dict[str, int]) -> list[str]:
    given = ", ".join("x".join(map(str, s)) for s in shapes)
    n = sum(s[0] for s in shapes)
    notes = [
        "detection model: read on CPU tensors with random weights (torch.manual_seed(0)), because score "
        "thresholds, top-k and NMS need values; meta tensors have none",
        f"input: {n} image(s) from --input-shape {given} (NxCxHxW = N images of CxHxW, values uniform in [0, 1), "
        "seed 0)",
    ]
    if "batch" in seen:
        sizes = ", ".join(f"{h}x{w}" for h, w in seen["sizes"])
        notes.append(
            f"the transform resized the image(s) to {sizes} and batched them as {'x'.join(map(str, seen['batch']))}"
        )
    per_detection = [p.split(".")[-1] for p in counts if p != "roi_heads"]
    heads = "".join(f", {head} head per detection" for head in per_detection)
    notes.append(
        "MACs and FLOPs totals are the fixed cost (transform, backbone, neck, heads); data-dependent parts "
        f"(RoI heads per proposal{heads}, post-processing per box) are reported apart with this run's counts"
    )
    if "roi_heads" in counts:
        notes.append(f"this run: {counts['roi_heads']} proposal(s) from the RPN into the RoI heads")
    for head in per_detection:
        notes.append(f"this run: {counts[f'roi_heads.{head}']} detection(s) into the {head} head")
    return notes


def read(
    builder: Callable[..., Any], kwargs: dict[str, Any], meta_model: nn.Module, shapes: list[Shape] | None, name: str
) -> tuple[Graph, list[Shape]]:
    """Read a detector: shapes default to one image at its native size; the model is rebuilt
    on the CPU with seeded random weights."""
    shapes = shapes or [native_shape(meta_model)]
    check_image_shapes(name, shapes, len(meta_model.transform.image_mean))
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = builder(**kwargs)
    model = model.eval()
    return trace_detector(model, shapes, name), shapes
