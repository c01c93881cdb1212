"""Detection ops: region pooling (RoIAlign) and post-processing (NMS, detection post-process).

Their cost grows with the number of proposals or boxes, which depends on the data; the
analysis (zooprof/detection/stages.py) reports them apart from the fixed cost. See
docs/detection.md.
"""

from __future__ import annotations

from zooprof.ir.graph import Layer
from zooprof.ir.ops import OpKind
from zooprof.rules.base import RF, Rule


class RoIAlignRule(Rule):
    """RoIAlign (Mask R-CNN): per output element, sampling_ratio² bilinear samples (4 multiplies
    + 3 adds each) accumulated (1 add each), then averaged (1 divide): 8·s² + 1 FLOPs. No MACs.

    Each pooled feature covers its own box, so its receptive field is not a property of the
    network: unknown.
    """

    kinds = frozenset({OpKind.ROI_ALIGN})

    def flops(self, layer: Layer) -> int:
        s = int(layer.attrs["sampling_ratio"])
        return layer.output.numel * (8 * s * s + 1)

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        return RF(known=False)


class PostprocessRule(Rule):
    """Box decoding, score filtering, top-k and non-maximum suppression. Their work depends
    on how many boxes pass each step, so they are listed as uncounted (coverage says so)
    and reported as data-dependent with the box counts of the run, never as 0."""

    kinds = frozenset({OpKind.NMS, OpKind.DETECTION_POSTPROCESS})
    counted = False

    def rf(self, layer: Layer, inputs: list[RF]) -> RF:
        return RF()
