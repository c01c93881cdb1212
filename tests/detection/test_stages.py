"""Stages, the fixed / data-dependent split, the new rules, the FlexBuffers reader and the
stage timer's bookkeeping: pure Python, hand-calculated figures, a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import graph, layer, t
from zooprof.analysis import analyze
from zooprof.analysis.stages import annotate, per_unit
from zooprof.errors import UsageError
from zooprof.frontends.tflite import flexbuffers
from zooprof.ir.graph import ParamSpec
from zooprof.ir.ops import OpKind
from zooprof.ir.stages import stage_of_onnx_node, stage_of_scope
from zooprof.reference.shapes import check_image_shapes
from zooprof.rules import RULES
from zooprof.rules.base import RF, AxisRF


@pytest.mark.parametrize(
    ("scope", "stage"),
    [
        ("transform", "transform"),
        ("backbone.features.0.0", "backbone"),
        ("backbone.body.layer1.0.conv1", "backbone"),
        ("backbone", "backbone"),  # SSD300's L2 norm runs in the backbone's own forward
        ("backbone.fpn.inner_blocks.0", "neck"),
        ("backbone.extra.0.1", "neck"),
        ("backbone.extra", "neck"),
        ("backbone.extras", "backbone"),  # a prefix of a name is not the name
        ("head.classification_head.module_list.0", "head"),
        ("rpn.head.conv", "head"),
        ("roi_heads.box_head.fc6", "head"),
        ("anchor_generator", "head"),
        ("", "postprocess"),
    ],
)
def test_stage_of_scope(scope: str, stage: str) -> None:
    assert stage_of_scope(scope) == stage


def test_stage_of_onnx_node() -> None:
    assert stage_of_onnx_node("/backbone/extra.0/extra.0.0/Conv") == "neck"
    assert stage_of_onnx_node("/backbone/features.0/features.0.0/Conv_output_0_nchwc") == "backbone"
    assert stage_of_onnx_node("/head/classification_head/Concat") == "head"
    assert stage_of_onnx_node("/TopK_12") == "postprocess"
    assert stage_of_onnx_node("NonMaxSuppression_4435") == "postprocess"


def _two_stage_graph(proposals: int) -> Any:
    """A tiny two-stage detector: conv backbone (fixed), a dense RoI head (per proposal), NMS."""
    w = ParamSpec("backbone.conv.weight", (8, 3, 3, 3))
    fc = ParamSpec("roi_heads.fc.weight", (16, 32))
    img = t("image", 1, 3, 10, 10)
    conv = layer(
        "backbone.conv",
        OpKind.CONV,
        [img],
        t("f", 1, 8, 8, 8),
        (w,),
        kernel=(3, 3),
        stride=(1, 1),
        padding=(0, 0),
        dilation=(1, 1),
        groups=1,
        in_channels=3,
        out_channels=8,
        bias=False,
        stage="backbone",
    )
    roi = layer(
        "roi_heads.fc",
        OpKind.DENSE,
        [t("r", proposals, 32)],
        t("h", proposals, 16),
        (fc,),
        in_features=32,
        out_features=16,
        bias=False,
        stage="head",
        data_dependent="proposal",
        count=proposals,
    )
    relu = layer(
        "roi_heads.relu",
        OpKind.RELU,
        [t("h", proposals, 16)],
        t("h2", proposals, 16),
        stage="head",
        data_dependent="proposal",
        count=proposals,
    )
    nms = layer(
        "postprocess_detections",
        OpKind.DETECTION_POSTPROCESS,
        [t("h2", proposals, 16)],
        t("boxes", 3, 4),
        stage="postprocess",
        data_dependent="box",
        count=40,
        nms_thresh=0.5,
        boxes_into_nms=40,
        nms_calls=1,
        boxes_out=3,
        aten_ops={"nms": 1},
    )
    return graph([img], [conv, roi, relu, nms])


def test_fixed_cost_apart_from_the_per_proposal_cost() -> None:
    fixed_macs = 8 * 8 * 8 * 3 * 3 * 3  # conv: output elements x C_in x kernel area = 13,824
    per_proposal = 16 * 32  # dense 32 -> 16
    for proposals in (5, 12):
        g = _two_stage_graph(proposals)
        a = analyze(g)  # the stages pass runs inside analyze
        assert a.totals["macs"] == fixed_macs
        assert a.totals["flops"] == 2 * fixed_macs
        dd = a.totals["data_dependent"]
        roi = next(p for p in dd["parts"] if p["unit"] == "proposal")
        assert (roi["name"], roi["count"], roi["macs_per_unit"]) == ("roi_heads", proposals, per_proposal)
        assert roi["flops_per_unit"] == 2 * per_proposal + 16  # + one relu per output
        assert sum(r["macs"] for r in a.layers) == a.totals["macs"] + per_proposal * proposals
        box = next(p for p in dd["parts"] if p["unit"] == "box")
        assert box["counted"] is False and box["flops"] is None and box["count"] == 40
        assert box["config"]["nms_thresh"] == 0.5 and "aten_ops" not in box["config"]
        stages = {s["stage"]: s for s in a.totals["stages"]}
        assert list(stages) == ["backbone", "head", "postprocess"]
        assert stages["head"]["data_dependent_macs"] == per_proposal * proposals and stages["head"]["macs"] == 0
        assert stages["backbone"]["params"] == 8 * 27 and stages["head"]["params"] == 16 * 32
        assert sum(s["macs"] for s in a.totals["stages"]) == a.totals["macs"]
        assert [r["stage"] for r in a.layers] == ["backbone", "head", "head", "postprocess"]
        assert a.layers[3]["postprocess"]["boxes_out"] == 3


def test_a_model_without_stages_is_unchanged() -> None:
    g = graph(
        [t("x", 1, 4)],
        [
            layer(
                "fc",
                OpKind.DENSE,
                [t("x", 1, 4)],
                t("y", 1, 2),
                (ParamSpec("fc.weight", (2, 4)),),
                in_features=4,
                out_features=2,
                bias=False,
            )
        ],
    )
    a = analyze(g)
    before = (dict(a.totals), [dict(r) for r in a.layers])
    annotate(g, a.layers, a.totals)
    assert (a.totals, a.layers) == before


def test_nms_in_a_file_is_post_processing_without_a_count() -> None:
    nms = layer("nms", OpKind.NMS, [t("boxes", 1, 100, 4)], t("sel", 7, 3), iou_threshold=0.5, boxes=100)
    g = graph([t("boxes", 1, 100, 4)], [nms])
    a = analyze(g)
    assert a.layers[0]["stage"] == "postprocess" and a.layers[0]["data_dependent"] == "box"
    part = a.totals["data_dependent"]["parts"][0]
    assert part["count"] is None and "100 candidate boxes" in part["count_note"]
    assert "stages" not in a.totals  # a file has no stage marks: no made-up stages
    assert a.totals["coverage"]["uncounted_ops"] == {"nms": 1}


def test_per_unit() -> None:
    assert per_unit(14_359_552 * 150, 150) == 14_359_552
    assert per_unit(10, 4) == 2.5
    assert per_unit(0, 0) is None and per_unit(None, 3) is None


def test_resize_rule() -> None:
    rule = RULES.get(OpKind.RESIZE)
    up = layer("up", OpKind.RESIZE, [t("x", 1, 4, 5, 5)], t("y", 1, 4, 10, 10), mode="nearest")
    bil = layer("bil", OpKind.RESIZE, [t("x", 1, 3, 8, 8)], t("y", 1, 3, 6, 6), mode="bilinear")
    same = layer("same", OpKind.RESIZE, [t("x", 1, 3, 8, 8)], t("y", 1, 3, 8, 8), mode="bilinear")
    assert rule.macs(bil) == 0 and rule.flops(up) == 0
    assert rule.flops(bil) == 7 * 3 * 6 * 6  # 4 multiplies + 3 adds per output element
    field = RF(axes=(AxisRF(3, 1, 1),) * 2)
    assert rule.rf(same, [field]) == field
    assert rule.rf(up, [field]).known is False  # a change of scale: not an integer step on the input grid


def test_roi_align_clamp_and_vector_norm_rules() -> None:
    roi = layer(
        "pool", OpKind.ROI_ALIGN, [t("f", 1, 256, 20, 20)], t("y", 150, 256, 7, 7), sampling_ratio=2, output_size=(7, 7)
    )
    assert RULES.get(OpKind.ROI_ALIGN).flops(roi) == 150 * 256 * 49 * (8 * 4 + 1)
    assert RULES.get(OpKind.ROI_ALIGN).macs(roi) == 0
    clamp = layer("c", OpKind.CLAMP, [t("x", 1, 10)], t("y", 1, 10), min=1e-12)
    assert RULES.get(OpKind.CLAMP).flops(clamp) == 10
    norm = layer("n", OpKind.VECTOR_NORM, [t("x", 1, 512, 38, 38)], t("y", 1, 1, 38, 38), axis=1)
    assert RULES.get(OpKind.VECTOR_NORM).flops(norm) == 2 * 512 * 38 * 38 + 38 * 38
    assert not RULES.get(OpKind.NMS).counted and not RULES.get(OpKind.DETECTION_POSTPROCESS).counted


@pytest.mark.parametrize(
    "value",
    [
        {
            "max_detections": 10,
            "nms_iou_threshold": 0.6,
            "use_regular_nms": False,
            "num_classes": 90,
            "name": "ssd",
            "negative": -3,
            "wide": 70_000,
            "big": 1 << 40,
            "ints": [1, 2, 3],
            "floats": [1.5, 2.5],
            "mixed": [1, "a", 2.0],
            "nested": {"a": 1, "b": [True, False]},
        },
        [1, 2],
        5,
        -7,
        "hi",
        3.25,
        True,
        None,
    ],
)
def test_flexbuffers_reader_against_the_flatbuffers_writer(value: Any) -> None:
    writer = pytest.importorskip("flatbuffers.flexbuffers")
    assert flexbuffers.loads(writer.Dumps(value)) == writer.Loads(writer.Dumps(value))


def test_flexbuffers_reader_refuses_bad_bytes() -> None:
    with pytest.raises(flexbuffers.FlexBufferError):
        flexbuffers.loads(b"\x00")
    with pytest.raises(flexbuffers.FlexBufferError):
        flexbuffers.loads(bytes([0xFF, 0x24, 0x07]))  # root byte width 7


def test_image_shapes() -> None:
    check_image_shapes("ssd", [(1, 3, 320, 320), (2, 3, 240, 320)])
    with pytest.raises(
        UsageError, match="detection model and takes a list of 3xHxW images; --input-shape 320x320 has 2 dimension"
    ):
        check_image_shapes("ssd", [(320, 320)])
    with pytest.raises(UsageError, match="normalises 3-channel images; --input-shape 1x1x320x320 has 1 channel"):
        check_image_shapes("ssd", [(1, 1, 320, 320)])


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_stage_timer_exclusive_time_with_a_fake_clock() -> None:
    torch = pytest.importorskip("torch")
    from torch import nn

    from zooprof.runtimes.stage_timer import measure_stages

    clock = FakeClock()

    class Step(nn.Module):
        def __init__(self, seconds: float) -> None:
            super().__init__()
            self.seconds = seconds

        def forward(self, x: Any) -> Any:
            clock.now += self.seconds
            return x

    class Backbone(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = Step(2.0)
            self.extra = nn.ModuleList([Step(0.25), Step(0.75)])  # called block by block, as SSD does

        def forward(self, x: Any) -> Any:
            clock.now += 0.5  # the backbone's own work (SSD300's L2 norm)
            x = self.features(x)
            for block in self.extra:
                x = block(x)
            return x

    class Toy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transform, self.backbone, self.head = Step(1.0), Backbone(), Step(3.0)

        def postprocess_detections(self, x: Any) -> list[dict[str, Any]]:
            clock.now += 4.0
            return [{"boxes": torch.zeros(5, 4)}]

        def forward(self, x: Any) -> Any:
            clock.now += 0.125  # glue outside every stage
            return self.postprocess_detections(self.head(self.backbone(self.transform(x))))

    toy = Toy()
    out = measure_stages(toy, lambda: toy(torch.zeros(1)), iterations=3, clock=clock, warmup=1)
    stages = {s["stage"]: s["seconds"] for s in out["stages"]}
    assert stages == {"transform": 1.0, "backbone": 2.5, "neck": 1.0, "head": 3.0, "postprocess": 4.0, "other": 0.125}
    assert out["sum_seconds"] == out["pass_seconds"] == out["end_to_end_seconds"] == 11.625
    assert out["sum_vs_end_to_end"] == 1.0
    assert out["counts"] == {"postprocess_detections.boxes_out": 5}
    assert "postprocess_detections" not in vars(toy) and not toy.head._forward_hooks  # hooks and wrappers removed
