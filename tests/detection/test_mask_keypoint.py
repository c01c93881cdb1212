"""Mask R-CNN and Keypoint R-CNN: the box head per proposal, the mask and keypoint heads per
detection, each an exact cost per unit by hand; their post-processing (maskrcnn_inference,
keypointrcnn_inference) one uncounted layer each. References: hand counts of the layers,
torchvision's weight metadata (`num_params`, `_ops`) for the whole models (slow)."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import graph, layer, t
from zooprof.analysis import analyze
from zooprof.ir.graph import ParamSpec
from zooprof.ir.ops import OpKind
from zooprof.ir.stages import UNITS, roi_part_of_scope
from zooprof.result.lines import stage_lines


@pytest.mark.parametrize(
    ("scope", "part"),
    [
        ("roi_heads.box_roi_pool", ("roi_heads", "proposal")),
        ("roi_heads.box_head.fc6", ("roi_heads", "proposal")),
        ("roi_heads.box_predictor.cls_score", ("roi_heads", "proposal")),
        ("roi_heads.mask_roi_pool", ("roi_heads.mask", "detection")),
        ("roi_heads.mask_head.0.0", ("roi_heads.mask", "detection")),
        ("roi_heads.mask_predictor.conv5_mask", ("roi_heads.mask", "detection")),
        ("roi_heads.keypoint_roi_pool", ("roi_heads.keypoint", "detection")),
        ("roi_heads.keypoint_head.14", ("roi_heads.keypoint", "detection")),
        ("roi_heads.keypoint_predictor.kps_score_lowres", ("roi_heads.keypoint", "detection")),
        ("roi_heads.mask_headless", ("roi_heads", "proposal")),  # a prefix of a name is not the name
        ("rpn.head.conv", None),
        ("backbone.body.conv1", None),
    ],
)
def test_roi_part_of_scope(scope: str, part: tuple[str, str] | None) -> None:
    assert roi_part_of_scope(scope) == part
    assert part is None or part[1] in UNITS


def _dense(name: str, rows: int, n_in: int, n_out: int, **attrs: Any) -> Any:
    return layer(
        name,
        OpKind.DENSE,
        [t(f"{name}.in", rows, n_in)],
        t(f"{name}.out", rows, n_out),
        (ParamSpec(f"{name}.weight", (n_out, n_in)),),
        in_features=n_in,
        out_features=n_out,
        bias=False,
        stage="head",
        **attrs,
    )


def test_mask_head_is_its_own_part_per_detection() -> None:
    """Hand-made: a box head (dense 32 -> 16, per proposal) and a mask head (dense 16 -> 8, per
    detection), each with its own count; the fixed cost has neither."""
    proposals, detections = 12, 3
    box = _dense("roi_heads.fc", proposals, 32, 16, data_dependent="proposal", count=proposals, part="roi_heads")
    mask = _dense(
        "roi_heads.mask_head.fc", detections, 16, 8, data_dependent="detection", count=detections, part="roi_heads.mask"
    )
    a = analyze(graph([t("roi_heads.fc.in", proposals, 32)], [box, mask]))
    parts = {p["name"]: p for p in a.totals["data_dependent"]["parts"]}
    assert list(parts) == ["roi_heads", "roi_heads.mask"]
    assert (parts["roi_heads"]["unit"], parts["roi_heads"]["count"], parts["roi_heads"]["macs_per_unit"]) == (
        "proposal",
        proposals,
        32 * 16,
    )
    assert (parts["roi_heads.mask"]["unit"], parts["roi_heads.mask"]["count"]) == ("detection", detections)
    assert (
        parts["roi_heads.mask"]["macs_per_unit"] == 16 * 8 and parts["roi_heads.mask"]["flops_per_unit"] == 2 * 16 * 8
    )
    assert a.totals["macs"] == 0 and a.totals["data_dependent"]["macs"] == 32 * 16 * proposals + 16 * 8 * detections
    assert "part" not in str(a.layers[0].get("postprocess", {}))  # bookkeeping, not configuration
    text = "\n".join(stage_lines(a.totals))
    assert "roi_heads.mask (head): 128 MACs per detection x 3 detections = 384 MACs (256 FLOPs per detection)" in text


def test_a_head_with_an_uncosted_layer_says_which() -> None:
    """A RoI head with a layer no rule costs keeps its MACs per unit and names the layer, instead of
    reading as post-processing with 0 MACs."""
    mask = _dense("roi_heads.mask_head.fc", 4, 16, 8, data_dependent="detection", count=4, part="roi_heads.mask")
    odd = layer(
        "roi_heads.mask_head.odd",
        OpKind.UNKNOWN,
        [t("roi_heads.mask_head.fc.out", 4, 8)],
        t("odd", 4, 8),
        stage="head",
        data_dependent="detection",
        count=4,
        part="roi_heads.mask",
    )
    a = analyze(graph([t("roi_heads.mask_head.fc.in", 4, 16)], [mask, odd]))
    part = a.totals["data_dependent"]["parts"][0]
    assert not part["counted"] and part["macs_per_unit"] == 16 * 8 and part["flops_per_unit"] is None
    assert part["why_not_counted"] == "1 layer(s) with no cost rule: roi_heads.mask_head.odd"
    assert "128 MACs per detection (counted layers only) x 4 detections" in "\n".join(stage_lines(a.totals))


# --------------------------------------------------------------------------------------
# tiny torchvision Mask R-CNN / Keypoint R-CNN (tests/detection/models.py), read for real

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

import zooprof  # noqa: E402
from zooprof.result.document import ProfileResult  # noqa: E402

#: by hand: TwoMLPHead 8*7*7 -> 32 -> 32, FastRCNNPredictor 32 -> classes and 4 x classes
TINY_BOX = {3: 392 * 32 + 32 * 32 + 32 * 3 + 32 * 12, 2: 392 * 32 + 32 * 32 + 32 * 2 + 32 * 8}
#: two 3x3 convs 8 -> 16 -> 16 at 14x14 (output elements x C_in x 9)
TINY_CONVS = 196 * 16 * 8 * 9 + 196 * 16 * 16 * 9
#: + ConvTranspose 2x2 s2 16 -> 16 (input elements x C_out x 4) + 1x1 logits 16 -> 3 at 28x28
TINY_MASK = TINY_CONVS + 196 * 16 * 16 * 4 + 784 * 16 * 3  # 915,712
#: + ConvTranspose 4x4 s2 16 -> 5 keypoints (input elements x C_out x 16); the bilinear x2 has no MACs
TINY_KEYPOINT = TINY_CONVS + 196 * 16 * 5 * 16  # 928,256
#: FLOPs: 2 x MACs + biases + ReLUs + RoIAlign 8x14x14 outputs x (8 x 2^2 + 1) [+ bilinear 7 per output]
ROI_ALIGN_14 = 8 * 196 * 33
TINY_MASK_FLOPS = 2 * TINY_MASK + (2 * 16 * 196 + 16 * 784 + 3 * 784) + (2 * 16 * 196 + 16 * 784) + ROI_ALIGN_14
TINY_KEYPOINT_FLOPS = 2 * TINY_KEYPOINT + (2 * 16 * 196 + 5 * 784) + 2 * 16 * 196 + 5 * 56 * 56 * 7 + ROI_ALIGN_14


@cache
def tiny(name: str) -> ProfileResult:
    return zooprof.inspect(f"tests.detection.models:{name}", use_cache=False)


def _parts(r: ProfileResult) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in r.totals["data_dependent"]["parts"]}


@pytest.mark.parametrize(
    ("name", "head", "per_detection", "flops", "classes", "inference"),
    [
        ("tiny_maskrcnn", "roi_heads.mask", TINY_MASK, TINY_MASK_FLOPS, 3, "maskrcnn_inference"),
        ("tiny_keypointrcnn", "roi_heads.keypoint", TINY_KEYPOINT, TINY_KEYPOINT_FLOPS, 2, "keypointrcnn_inference"),
    ],
)
def test_tiny_heads_per_proposal_and_per_detection(
    name: str, head: str, per_detection: int, flops: int, classes: int, inference: str
) -> None:
    r = tiny(name)
    parts = _parts(r)
    box, extra = parts["roi_heads"], parts[head]
    assert (box["unit"], box["macs_per_unit"], box["counted"]) == ("proposal", TINY_BOX[classes], True)
    assert (extra["unit"], extra["stage"], extra["counted"]) == ("detection", "head", True)
    assert extra["macs_per_unit"] == per_detection and extra["flops_per_unit"] == flops
    # the counts: at most the RPN's post_nms_top_n proposals, at most detections_per_img detections, which
    # are the boxes the box head's post-processing kept
    kept = parts["roi_heads.postprocess_detections"]["config"]["boxes_out"]
    assert 0 < box["count"] <= 20 and 0 < extra["count"] == kept <= 5
    assert f"this run: {extra['count']} detection(s) into the {head.split('.')[1]} head" in r.model["notes"]
    # every layer: fixed + per proposal x proposals + per detection x detections
    total = sum(row["macs"] for row in r.layers)
    assert total == r.totals["macs"] + TINY_BOX[classes] * box["count"] + per_detection * extra["count"]
    # its post-processing is one uncounted layer; nothing else is uncounted outside post-processing
    post = next(row for row in r.layers if row["name"] == f"roi_heads.{inference}")
    assert (post["op"], post["stage"], post["counted"]) == ("detection_postprocess", "postprocess", False)
    assert parts[f"roi_heads.{inference}"]["count"] == extra["count"]
    assert all(row["stage"] == "postprocess" for row in r.layers if not row["counted"])
    assert r.totals["params"] == sum(p.numel() for p in _build(name).parameters())


def _build(name: str) -> Any:
    from tests.detection import models

    return getattr(models, name)()


def test_wrapping_puts_torchvision_s_functions_back() -> None:
    """maskrcnn_inference is a global of torchvision's roi_heads module: reading and timing wrap it
    there and put the function itself back (not delete it)."""
    from torchvision.models.detection import roi_heads

    from zooprof.runtimes.stage_timer import measure_stages

    originals = (roi_heads.maskrcnn_inference, roi_heads.keypointrcnn_inference)
    tiny.cache_clear()
    tiny("tiny_maskrcnn")
    assert (roi_heads.maskrcnn_inference, roi_heads.keypointrcnn_inference) == originals
    model = _build("tiny_maskrcnn").eval()
    image = [torch.rand(3, 64, 64)]
    with torch.no_grad():
        out = measure_stages(model, lambda: model(image), iterations=1, warmup=0)
    units = {u["name"]: u["stage"] for u in out["units"]}
    assert units["roi_heads.maskrcnn_inference"] == "postprocess"
    assert out["counts"]["roi_heads.maskrcnn_inference.boxes_out"] == out["counts"]["transform.postprocess.boxes_out"]
    assert (roi_heads.maskrcnn_inference, roi_heads.keypointrcnn_inference) == originals
    assert "postprocess_detections" not in vars(model.roi_heads)


def test_faster_rcnn_has_no_per_detection_part() -> None:
    from zooprof.frontends.torch.detection import postprocess_functions

    labels = [label for _, _, label, _ in postprocess_functions(_build("tiny_fasterrcnn"))]
    assert "roi_heads.maskrcnn_inference" not in labels and "roi_heads.keypointrcnn_inference" not in labels
    r = tiny("tiny_fasterrcnn")
    assert [p["unit"] for p in r.totals["data_dependent"]["parts"] if p["stage"] == "head"] == ["proposal"]
    assert _parts(r)["roi_heads"]["macs_per_unit"] == TINY_BOX[3]
    assert not any("detection(s) into" in note for note in r.model["notes"])


# --------------------------------------------------------------------------------------
# the torchvision models (slow): params against num_params, per-unit costs by hand, `_ops`

#: box heads per proposal: v1 TwoMLPHead 256*7*7 -> 1024 -> 1024; v2 FastRCNNConvFCHead four 3x3 convs
#: 256 -> 256 at 7x7 and one fc 256*7*7 -> 1024; FastRCNNPredictor 1024 -> classes and 4 x classes
BOX_V1 = {91: 256 * 49 * 1024 + 1024 * 1024 + 1024 * 91 + 1024 * 364, 2: 256 * 49 * 1024 + 1024 * 1024 + 1024 * 10}
BOX_V2 = 4 * (49 * 256 * 256 * 9) + 256 * 49 * 1024 + 1024 * 91 + 1024 * 364  # 128,916,480
#: mask head per detection: four 3x3 convs 256 -> 256 at 14x14, ConvTranspose 2x2 s2 256 -> 256,
#: 1x1 logits 256 -> 91 at 28x28
MASK = 4 * (196 * 256 * 256 * 9) + 196 * 256 * 256 * 4 + 784 * 256 * 91  # 532,066,304
#: keypoint head per detection: 3x3 convs 256 -> 512 then 7 x 512 -> 512 at 14x14, ConvTranspose 4x4 s2 512 -> 17
KEYPOINT = 196 * 512 * 256 * 9 + 7 * (196 * 512 * 512 * 9) + 196 * 512 * 17 * 16  # 3,495,460,864
#: FLOPs per detection (v1 heads have biases, no norms): 2 x MACs, biases, ReLUs, RoIAlign 256x14x14 x 33
MASK_FLOPS = 2 * MASK + (4 * 256 * 196 + 256 * 784 + 91 * 784) + (4 * 256 * 196 + 256 * 784) + 256 * 196 * 33
KEYPOINT_FLOPS = 2 * KEYPOINT + (8 * 512 * 196 + 17 * 784) + 8 * 512 * 196 + 17 * 56 * 56 * 7 + 256 * 196 * 33

ROOT = Path(__file__).resolve().parents[2]


def _catalogue() -> ModuleType:
    name = "zooprof_bench_catalogue"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "catalogue.py")
        assert spec and spec.loader
        sys.modules[name] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "coco", "box", "head", "per_detection", "flops", "detections"),
    [
        ("maskrcnn_resnet50_fpn", True, BOX_V1[91], "roi_heads.mask", MASK, MASK_FLOPS, 0),
        ("maskrcnn_resnet50_fpn_v2", False, BOX_V2, "roi_heads.mask", MASK, None, 100),
        ("keypointrcnn_resnet50_fpn", True, BOX_V1[2], "roi_heads.keypoint", KEYPOINT, KEYPOINT_FLOPS, 1),
    ],
)
def test_torchvision_mask_and_keypoint_rcnn(
    name: str, coco: bool, box: int, head: str, per_detection: int, flops: int | None, detections: int
) -> None:
    import torchvision

    ref = f"zooprof.frontends.torch.detection:torchvision_detector?model={name}" + ("&coco_layout=true" if coco else "")
    r = zooprof.inspect(ref, use_cache=False)
    meta = torchvision.models.get_model_weights(name).DEFAULT.meta
    assert r.totals["params"] == meta["num_params"]
    parts = _parts(r)
    assert parts["roi_heads"]["macs_per_unit"] == box and parts["roi_heads"]["count"] == 1000
    assert parts[head]["unit"] == "detection" and parts[head]["macs_per_unit"] == per_detection
    assert flops is None or parts[head]["flops_per_unit"] == flops
    assert 0 < parts[head]["count"] <= 100  # detections_per_img
    # torchvision's _ops: fixed + box head x 1,000 proposals + head x the detections of its measuring run
    assert round((r.totals["macs"] + box * 1000 + per_detection * detections) / 1e9, 3) == meta["_ops"]
    catalogue = _catalogue()
    row = catalogue.Row(name, "detection", ref_params=meta["num_params"], ref_macs=float(meta["_ops"]) * 1e9)
    row.params, row.macs = r.totals["params"], r.totals["macs"]
    catalogue.detector_convention(name, row, r.totals)
    row.check()
    assert row.status == "ok" and f"x {detections} detections" in row.notes[-1]
