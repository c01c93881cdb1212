"""Post-processing ops in files: TFLite `TFLite_Detection_PostProcess` (FlexBuffer options) and
ONNX `NonMaxSuppression` (top level or inside an If), and the ONNX export route's failures."""

from __future__ import annotations

from pathlib import Path

import pytest

import zooprof
from tests.helpers import run
from zooprof.ir.ops import OpKind


@pytest.fixture(scope="module")
def detect_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("flatbuffers")
    pytest.importorskip("ai_edge_litert.schema_py_generated")
    from tests.detection.tflite_detect import detect_tflite

    path = tmp_path_factory.mktemp("tflite") / "detect.tflite"
    path.write_bytes(detect_tflite())
    return path


def test_tflite_detection_postprocess_is_recognised(detect_file: Path) -> None:
    from tests.detection.tflite_detect import ANCHORS, CLASSES, OPTIONS
    from zooprof.frontends.tflite import read as tflite

    graph, _ = tflite.read_tflite(detect_file)
    (layer,) = graph.layers
    assert layer.op is OpKind.DETECTION_POSTPROCESS and layer.source_op == "TFLite_Detection_PostProcess"
    for key, value in OPTIONS.items():
        assert layer.attrs[key] == (pytest.approx(value, abs=1e-6) if isinstance(value, float) else value), key
    assert layer.attrs["anchors"] == ANCHORS and layer.attrs["num_classes"] == CLASSES
    assert not any("custom ops are uncounted" in n for n in graph.notes)
    r = zooprof.inspect(str(detect_file), use_cache=False)
    assert r.totals["params"] == 0 and r.totals["buffers"] == ANCHORS * 4  # anchors: stored, not learned
    (part,) = r.totals["data_dependent"]["parts"]
    assert part["unit"] == "box" and part["count"] is None and f"{ANCHORS:,} candidate boxes" in part["count_note"]
    assert r.layers[0]["stage"] == "postprocess" and r.layers[0]["postprocess"]["max_detections"] == 10


def test_tflite_postprocess_attributes_in_the_report(capsys: pytest.CaptureFixture[str], detect_file: Path) -> None:
    code, out, _ = run(capsys, "inspect", str(detect_file), "--width", "250", "--no-cache")
    assert code == 0
    assert "TFLite_Detection_PostProcess (postprocess): 1,917 candidate boxes" in out
    for text in (
        "max_detections 10",
        "nms_iou_threshold 0.6",
        "nms_score_threshold 0.3",
        "num_classes 90",
        "use_regular_nms False",
        "y_scale 10",
    ):
        assert text in out, text


def _nms_model(inside_if: bool) -> bytes:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    consts = [
        helper.make_tensor("max_out", TensorProto.INT64, [1], [20]),
        helper.make_tensor("iou", TensorProto.FLOAT, [1], [0.45]),
        helper.make_tensor("score", TensorProto.FLOAT, [1], [0.25]),
    ]
    nms = helper.make_node(
        "NonMaxSuppression",
        ["boxes", "scores", "max_out", "iou", "score"],
        ["selected"],
        name="nms",
        center_point_box=1,
    )
    inputs = [
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, 100, 4]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 3, 100]),
    ]
    out = helper.make_tensor_value_info("selected", TensorProto.INT64, [None, 3])
    if not inside_if:
        graph = helper.make_graph([nms], "nms", inputs, [out], initializer=consts)
    else:
        then = helper.make_graph([nms], "then", [], [out])
        empty = helper.make_node("Constant", [], ["none"], value=helper.make_tensor("e", TensorProto.INT64, [0, 3], []))
        other = helper.make_graph(
            [empty], "else", [], [helper.make_tensor_value_info("none", TensorProto.INT64, [0, 3])]
        )
        flag = helper.make_tensor("flag", TensorProto.BOOL, [], [True])
        node = helper.make_node("If", ["flag"], ["selected"], name="if_boxes", then_branch=then, else_branch=other)
        graph = helper.make_graph([node], "nms_if", inputs, [out], initializer=[*consts, flag])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return onnx._serialize(model) if hasattr(onnx, "_serialize") else model.SerializeToString()


@pytest.mark.parametrize("inside_if", [False, True])
def test_onnx_non_max_suppression(tmp_path: Path, inside_if: bool) -> None:
    path = tmp_path / "nms.onnx"
    path.write_bytes(_nms_model(inside_if))
    r = zooprof.inspect(str(path), use_cache=False)
    layer = next(x for x in r.graph["layers"] if x["op"] == "nms")
    attrs = layer["attrs"]
    assert attrs["center_point_box"] == 1 and attrs["max_output_boxes_per_class"] == 20
    assert attrs["iou_threshold"] == pytest.approx(0.45) and attrs["score_threshold"] == pytest.approx(0.25)
    if inside_if:
        assert attrs["in_subgraph_of"] == "If" and attrs["nms_nodes"] == 1 and layer["source_op"] == "If"
    else:
        assert attrs["boxes"] == 100 and attrs["classes"] == 3
    row = next(row for row in r.layers if row["op"] == "nms")
    assert row["stage"] == "postprocess" and row["data_dependent"] == "box" and not row["counted"]
    assert r.totals["data_dependent"]["parts"][0]["config"]["iou_threshold"] == pytest.approx(0.45)


def test_onnx_export_failure_names_the_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from zooprof.errors import ZooprofError
    from zooprof.measure.convert import torch_to_onnx

    monkeypatch.setenv("ZOOPROF_CACHE_DIR", str(tmp_path))

    from tests.detection.models import RunningMax

    with pytest.raises(ZooprofError, match=r"exporting to ONNX failed at op aten::cummax"):
        torch_to_onnx(RunningMax, lambda: [torch.rand(1, 8)], {"model": "running_max"})
    assert not list((tmp_path / "convert").glob("*.onnx"))
