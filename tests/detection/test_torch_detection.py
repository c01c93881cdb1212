"""torchvision detectors read by zooprof: acceptance figures, stages, per-proposal cost,
input checks. References: torchvision's weight metadata, hand counts of the layers, and
torchvision's own construction of its COCO checkpoints' layout."""

from __future__ import annotations

from functools import cache

import pytest

pytest.importorskip("torchvision")

import zooprof  # noqa: E402
from tests.helpers import run  # noqa: E402
from zooprof.errors import UsageError  # noqa: E402
from zooprof.result.document import ProfileResult  # noqa: E402

#: RoI heads of Faster R-CNN (TwoMLPHead + FastRCNNPredictor), per proposal, by hand:
#: fc6 256*7*7 -> 1024, fc7 1024 -> 1024, cls_score 1024 -> 91, bbox_pred 1024 -> 91*4
ROI_MACS_PER_PROPOSAL = 256 * 7 * 7 * 1024 + 1024 * 1024 + 1024 * 91 + 1024 * 364  # 14,359,552
#: ... and FLOPs: 2 x MACs, biases, two ReLUs of 1024, RoIAlign 256x7x7 outputs x (8 x 2^2 + 1)
ROI_FLOPS_PER_PROPOSAL = 2 * ROI_MACS_PER_PROPOSAL + (1024 + 1024 + 91 + 364) + 2 * 1024 + 256 * 49 * 33


@cache
def result(model: str, shape: str | None = None) -> ProfileResult:
    return zooprof.inspect(model, input_shape=shape, use_cache=False)


def _meta(name: str) -> dict[str, object]:
    import torchvision

    return torchvision.models.get_model_weights(name).DEFAULT.meta


def _sums(r: ProfileResult) -> None:
    """Stage totals add up to the model's; only post-processing is uncounted."""
    stages = r.totals["stages"]
    assert [s["stage"] for s in stages] == ["transform", "backbone", "neck", "head", "postprocess"]
    assert sum(s["macs"] for s in stages) == r.totals["macs"]
    outside = r.totals.get("params_not_in_trace", {}).get("params", 0)  # in no layer, so in no stage
    assert sum(s["params"] for s in stages) + outside == r.totals["params"]
    assert sum(s["data_dependent_macs"] for s in stages) == r.totals.get("data_dependent", {}).get("macs", 0)
    assert all(row["stage"] == "postprocess" for row in r.layers if not row["counted"])
    assert all(row.get("stage") for row in r.layers)


def test_ssdlite_acceptance() -> None:
    r = result("ssdlite320_mobilenet_v3_large")
    assert r.totals["params"] == 3_440_060 == _meta("ssdlite320_mobilenet_v3_large")["num_params"]
    assert r.totals["macs"] == 583_171_904
    assert round(r.totals["macs"] / 1e9, 3) == _meta("ssdlite320_mobilenet_v3_large")["_ops"]
    assert all(c["ok"] for c in r.model["reference_check"].values())
    assert r.model["input_shape"] == [1, 3, 320, 320] and r.model["inputs"][0]["shape"] == [3, 320, 320]
    _sums(r)
    stages = {s["stage"]: s for s in r.totals["stages"]}
    # the extra layers, by hand: (1x1 in->mid, 3x3 depthwise stride 2, 1x1 mid->out) x 4 blocks
    extra = [(480, 256, 512, 10, 5), (512, 128, 256, 5, 3), (256, 128, 256, 3, 2), (256, 64, 128, 2, 1)]
    neck = sum(h * h * c_in * mid + o * o * mid * 9 + o * o * c_out * mid for c_in, mid, c_out, h, o in extra)
    assert stages["neck"]["macs"] == neck == 18_070_976
    assert stages["transform"]["macs"] == 0 and stages["transform"]["params"] == 0
    assert stages["postprocess"]["macs"] == 0 and stages["postprocess"]["uncounted_layers"] == 2


def test_ssdlite_post_processing_is_data_dependent() -> None:
    r = result("ssdlite320_mobilenet_v3_large")
    parts = {p["name"]: p for p in r.totals["data_dependent"]["parts"]}
    post = parts["postprocess_detections"]
    config = post["config"]
    assert post["unit"] == "box" and not post["counted"] and post["flops"] is None
    assert (config["score_thresh"], config["nms_thresh"], config["topk_candidates"], config["detections_per_img"]) == (
        0.001,
        0.55,
        300,
        300,
    )
    # candidates: at most topk per class (90 classes) go into NMS; at most detections_per_img come out
    assert 0 < post["count"] == config["boxes_into_nms"] <= 90 * 300
    assert config["boxes_kept_by_nms"] <= config["boxes_into_nms"] and config["boxes_out"] <= 300
    row = next(row for row in r.layers if row["name"] == "postprocess_detections")
    assert row["data_dependent"] == "box" and row["op"] == "detection_postprocess"
    assert (
        "nms"
        in next(layer for layer in r.graph["layers"] if layer["name"] == "postprocess_detections")["attrs"]["aten_ops"]
    )


def test_ssdlite_several_images() -> None:
    """2x3x320x320 is two images; images of another size are resized to 320x320 by the model."""
    r = result("ssdlite320_mobilenet_v3_large", "2x3x320x320")
    assert r.totals["macs"] == 2 * 583_171_904
    r = result("ssdlite320_mobilenet_v3_large", "1x3x320x320,1x3x240x480")
    assert r.totals["macs"] == 2 * 583_171_904
    assert [i["shape"] for i in r.model["inputs"]] == [[3, 320, 320], [3, 240, 480]]
    assert any("resized the image(s) to 320x320, 320x320" in n for n in r.model["notes"])


def test_faster_rcnn_fixed_plus_per_proposal() -> None:
    """total = fixed + per-proposal x proposals, for two proposal counts (the RPN's post-NMS limit)."""
    seen = []
    for limit in (40, 100):
        r = result(f"fasterrcnn_mobilenet_v3_large_320_fpn?rpn_post_nms_top_n_test={limit}")
        roi = next(p for p in r.totals["data_dependent"]["parts"] if p["name"] == "roi_heads")
        assert roi["unit"] == "proposal" and roi["stage"] == "head"
        assert roi["macs_per_unit"] == ROI_MACS_PER_PROPOSAL and roi["flops_per_unit"] == ROI_FLOPS_PER_PROPOSAL
        total = sum(row["macs"] for row in r.layers)
        assert total == r.totals["macs"] + ROI_MACS_PER_PROPOSAL * roi["count"]
        assert roi["count"] <= limit
        seen.append((r.totals["macs"], roi["count"]))
        _sums(r)
    (fixed_a, count_a), (fixed_b, count_b) = seen
    assert fixed_a == fixed_b and count_a != count_b


def test_faster_rcnn_320_reference() -> None:
    r = result("fasterrcnn_mobilenet_v3_large_320_fpn")
    meta = _meta("fasterrcnn_mobilenet_v3_large_320_fpn")
    assert r.totals["params"] == meta["num_params"] == 19_386_354
    assert round(r.totals["macs"] / 1e9, 3) == meta["_ops"]  # fixed: backbone, FPN, RPN
    assert all(c["ok"] for c in r.model["reference_check"].values())
    stages = {s["stage"]: s for s in r.totals["stages"]}
    assert (
        stages["head"]["data_dependent_macs"]
        == ROI_MACS_PER_PROPOSAL
        * r.totals["data_dependent"]["parts"][
            [p["name"] for p in r.totals["data_dependent"]["parts"]].index("roi_heads")
        ]["count"]
    )
    proposals = next(p for p in r.totals["data_dependent"]["parts"] if p["name"] == "rpn.filter_proposals")
    assert proposals["config"]["post_nms_top_n"] == 150 and proposals["config"]["nms_thresh"] == 0.7
    decode = next(row for row in r.layers if row["name"] == "rpn.box_coder.decode")
    assert decode["stage"] == "postprocess" and "data_dependent" not in decode  # one box per anchor: fixed


def test_coco_layout_is_torchvision_s_own() -> None:
    """zooprof's COCO layout (no download) against torchvision's builder given backbone weights
    (the weight loading replaced by a no-op): parameters, trainable ones, buffers."""
    from unittest import mock

    import torch
    import torchvision

    from zooprof.frontends.torch.detection import torchvision_detector

    for name, backbone in (
        ("fasterrcnn_mobilenet_v3_large_fpn", "MobileNet_V3_Large_Weights.IMAGENET1K_V1"),
        ("retinanet_resnet50_fpn", "ResNet50_Weights.IMAGENET1K_V1"),
    ):
        with (
            torch.device("meta"),
            mock.patch("torchvision.models._api.WeightsEnum.get_state_dict", lambda self, *a, **k: {}),
            mock.patch("torch.nn.Module.load_state_dict", lambda self, *a, **k: None),
        ):
            ref = torchvision.models.get_model(name, weights=None, weights_backbone=backbone)
            mine = torchvision_detector(name, coco_layout=True)

        def stats(m: torch.nn.Module) -> tuple[int, int, int, list[str]]:
            return (
                sum(p.numel() for p in m.parameters()),
                sum(p.numel() for p in m.parameters() if p.requires_grad),
                sum(b.numel() for b in m.buffers()),
                [n for n, p in m.named_parameters() if p.requires_grad],
            )

        assert stats(mine) == stats(ref)
        assert stats(mine)[0] == _meta(name)["num_params"]


def test_torchvision_reference_needs_no_download() -> None:
    """torchvision:NAME builds a detector without its backbone's ImageNet weights, at its native size."""
    r = result("torchvision:ssdlite320_mobilenet_v3_large")
    assert r.totals["macs"] == 583_171_904 and r.model["input_shape"] == [1, 3, 320, 320]


@pytest.mark.parametrize(
    ("model", "shape", "message"),
    [
        (
            "ssdlite320_mobilenet_v3_large",
            "320x320",
            "is a detection model and takes a list of 3xHxW images; --input-shape 320x320 has 2 dimension(s)",
        ),
        ("ssdlite320_mobilenet_v3_large", "1x1x320x320", "normalises 3-channel images"),
        ("torchvision:ssdlite320_mobilenet_v3_large", "1x320x320", "has 3 dimension(s)"),
    ],
)
def test_malformed_input(capsys: pytest.CaptureFixture[str], model: str, shape: str, message: str) -> None:
    code, out, err = run(capsys, "inspect", model, "--input-shape", shape, "--no-cache")
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    with pytest.raises(UsageError, match="NxCxHxW|3-channel"):
        zooprof.inspect(model, input_shape=shape, use_cache=False)


def test_inspect_console_shows_stages(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "inspect",
        "ssdlite320_mobilenet_v3_large",
        "--depth",
        "2",
        "--width",
        "200",
        "--columns",
        "name,stage,params,macs",
    )
    assert code == 0
    assert "Stages (params; fixed MACs; data-dependent MACs of this run):" in out
    assert "neck" in out and "18,070,976" in out
    assert "postprocess_detections (postprocess):" in out and "nms_thresh 0.55" in out
    assert "fixed cost only" in out
    assert "postprocess *box" in out  # the stage column marks data-dependent rows


def test_classification_models_are_unaffected() -> None:
    r = zooprof.inspect("mnist-mlp", use_cache=False)
    assert "stages" not in r.totals and "data_dependent" not in r.totals
    assert not any("stage" in row for row in r.layers)


@pytest.mark.slow
def test_ssd300_acceptance() -> None:
    r = result("ssd300_vgg16")
    assert r.totals["params"] == 35_641_826 == _meta("ssd300_vgg16")["num_params"]
    assert r.totals["macs"] == 34_858_153_472
    assert round(r.totals["macs"] / 1e9, 3) == _meta("ssd300_vgg16")["_ops"]
    _sums(r)
    norm = [row for row in r.layers if row["op"] == "vector_norm"]  # the L2 norm on conv4_3, counted
    assert len(norm) == 1 and norm[0]["stage"] == "backbone" and norm[0]["counted"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["retinanet_resnet50_fpn", "fasterrcnn_mobilenet_v3_large_fpn"])
def test_large_detectors_match_torchvision_metadata(name: str) -> None:
    r = result(name)
    meta = _meta(name)
    assert r.totals["params"] == meta["num_params"]
    assert round(r.totals["macs"] / 1e9, 2) == round(float(meta["_ops"]), 2)
    assert all(c["ok"] for c in r.model["reference_check"].values())
    _sums(r)
