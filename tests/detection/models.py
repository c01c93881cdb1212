"""Small models for the detection tests' runtime checks."""

from __future__ import annotations

import torch
from torch import nn


class RunningMax(nn.Module):
    """A running maximum: the TorchScript-based ONNX exporter has no symbolic for aten::cummax."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cummax(x, dim=1).values


def running_max() -> nn.Module:
    return RunningMax()


# --------------------------------------------------------------------------------------
# Tiny two-stage detectors built from torchvision's own classes (fast to read, hand-countable heads):
# one conv as the backbone (8 channels, stride 4), 64x64 images, every score above the threshold


def _tiny_backbone() -> nn.Module:
    backbone = nn.Sequential(nn.Conv2d(3, 8, 3, stride=4, padding=1), nn.ReLU())
    backbone.out_channels = 8
    return backbone


def _tiny_rcnn(classes: int) -> dict:
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.ops import MultiScaleRoIAlign

    return {
        "min_size": 64,
        "max_size": 64,
        "rpn_anchor_generator": AnchorGenerator(((16, 32),), ((0.5, 1.0, 2.0),)),
        "rpn_pre_nms_top_n_test": 50,
        "rpn_post_nms_top_n_test": 20,
        "box_roi_pool": MultiScaleRoIAlign(["0"], 7, 2),
        "box_head": TwoMLPHead(8 * 7 * 7, 32),
        "box_predictor": FastRCNNPredictor(32, classes),
        "box_score_thresh": 0.0,
        "box_detections_per_img": 5,
    }


def tiny_maskrcnn() -> nn.Module:
    """Mask R-CNN: box head 392 -> 32 -> 32 -> 3 classes; mask head two 3x3 convs 8 -> 16 -> 16 at
    14x14, a 2x2 stride-2 transposed conv 16 -> 16 and 1x1 logits 16 -> 3 at 28x28."""
    from torchvision.models.detection.mask_rcnn import MaskRCNN, MaskRCNNHeads, MaskRCNNPredictor
    from torchvision.ops import MultiScaleRoIAlign

    return MaskRCNN(
        _tiny_backbone(),
        num_classes=None,
        mask_roi_pool=MultiScaleRoIAlign(["0"], 14, 2),
        mask_head=MaskRCNNHeads(8, [16, 16], 1),
        mask_predictor=MaskRCNNPredictor(16, 16, 3),
        **_tiny_rcnn(3),
    )


def tiny_keypointrcnn() -> nn.Module:
    """Keypoint R-CNN: box head 392 -> 32 -> 32 -> 2 classes; keypoint head two 3x3 convs 8 -> 16 -> 16
    at 14x14, a 4x4 stride-2 transposed conv 16 -> 5 keypoints, bilinear x2 to 56x56."""
    from torchvision.models.detection.keypoint_rcnn import KeypointRCNN, KeypointRCNNHeads, KeypointRCNNPredictor
    from torchvision.ops import MultiScaleRoIAlign

    return KeypointRCNN(
        _tiny_backbone(),
        num_classes=None,
        keypoint_roi_pool=MultiScaleRoIAlign(["0"], 14, 2),
        keypoint_head=KeypointRCNNHeads(8, [16, 16]),
        keypoint_predictor=KeypointRCNNPredictor(16, 5),
        **_tiny_rcnn(2),
    )


def tiny_fasterrcnn() -> nn.Module:
    """Faster R-CNN with the same backbone and box head: no per-detection head."""
    from torchvision.models.detection.faster_rcnn import FasterRCNN

    return FasterRCNN(_tiny_backbone(), num_classes=None, **_tiny_rcnn(3))
