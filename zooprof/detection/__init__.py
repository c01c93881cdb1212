"""Detection models: stages, data-dependent cost, post-processing ops (docs/detection.md).

- `stages`: pure Python over a Graph and its analysis rows: the stage of each layer, stage
  totals, the fixed cost apart from the data-dependent parts (per proposal, per box).
- `torch_models`: torchvision detectors read on CPU tensors (NMS cannot run on meta
  tensors), the image list behind `--input-shape`, the COCO-checkpoint layout builder.
- `stage_timer`: latency per stage, measured with hooks inside a runtime worker.
- `flexbuffers`: the reader for TFLite custom-op options (TFLite_Detection_PostProcess).

Only `torch_models` and `stage_timer` import PyTorch, inside the functions that need it.
"""

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
