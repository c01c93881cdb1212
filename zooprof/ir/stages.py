"""The stages of a detection model (transform, backbone, neck, head, postprocess): the vocabulary
frontends mark layers with, analyses total by and runtimes time by. Pure Python."""

from __future__ import annotations

#: The stages of a detection model's report, in execution order.
STAGES = ("transform", "backbone", "neck", "head", "postprocess")

#: What each stage holds (for reports and docs).
STAGE_HELP = {
    "transform": "resize and normalise the input images (GeneralizedRCNNTransform)",
    "backbone": "feature extractor (backbone.body / backbone.features)",
    "neck": "feature pyramid or extra layers (backbone.fpn / backbone.extra)",
    "head": "box and class predictors, anchors, RPN and RoI heads",
    "postprocess": "box decoding, score filtering, top-k, NMS, rescaling boxes to the input size",
}

#: Module paths (torchvision's attribute names) of the neck; the rest of `backbone` is the backbone.
NECK_SCOPES = ("backbone.fpn", "backbone.extra")
HEAD_SCOPES = ("head", "rpn", "roi_heads", "anchor_generator")

#: The units a data-dependent part is counted in: its cost is exact per unit, the count is the run's.
UNITS = {
    "proposal": "a region proposal from the RPN into the RoI box head (at most the RPN's post_nms_top_n)",
    "detection": "a post-processed detection into the mask or keypoint head (at most detections_per_img)",
    "box": "a box into post-processing (score threshold, top-k, NMS)",
}

#: The RoI heads' data-dependent parts of a two-stage detector: (part, unit, module paths). The box
#: head runs on every proposal; Mask R-CNN's mask head and Keypoint R-CNN's keypoint head run on the
#: detections the box head's post-processing keeps. The first match wins: `roi_heads` takes the rest
#: (box_roi_pool, box_head, box_predictor).
ROI_PARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("roi_heads.mask", "detection", ("roi_heads.mask_roi_pool", "roi_heads.mask_head", "roi_heads.mask_predictor")),
    (
        "roi_heads.keypoint",
        "detection",
        ("roi_heads.keypoint_roi_pool", "roi_heads.keypoint_head", "roi_heads.keypoint_predictor"),
    ),
    ("roi_heads", "proposal", ("roi_heads",)),
)


def _under(scope: str, prefix: str) -> bool:
    return scope == prefix or scope.startswith(prefix + ".")


def stage_of_scope(scope: str) -> str:
    """The stage of a layer of a torchvision detector, from its module path.

    Ops of the model's own forward outside any module (e.g. RetinaNet splitting the head
    outputs per level before decoding them) belong to post-processing.
    """
    top = scope.split(".")[0]
    if top == "transform":
        return "transform"
    if top == "backbone":
        return "neck" if any(_under(scope, p) for p in NECK_SCOPES) else "backbone"
    if top in HEAD_SCOPES:
        return "head"
    return "postprocess"


def roi_part_of_scope(scope: str) -> tuple[str, str] | None:
    """(part, unit) of a layer in a two-stage detector's RoI heads, from its module path; None
    outside them."""
    for part, unit, prefixes in ROI_PARTS:
        if any(_under(scope, p) for p in prefixes):
            return part, unit
    return None


def stage_of_onnx_node(name: str) -> str:
    """The stage of a node of a detector exported by torch.onnx.export: its name carries the
    module path ('/backbone/extra.0/extra.0.0/Conv'); nodes outside every module belong to
    post-processing (the exporter keeps the model's own forward at the top level)."""
    if not name.startswith("/"):
        return "postprocess"
    return stage_of_scope(".".join(name.strip("/").split("/")[:-1]))
