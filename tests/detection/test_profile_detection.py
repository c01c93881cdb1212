"""Measuring detection models: time per stage against the end-to-end median, the counts of
the run, ONNX Runtime through the export route, and an export failure that names its op."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torchvision")

import zooprof  # noqa: E402
from tests.helpers import run  # noqa: E402

STAGES = ["transform", "backbone", "neck", "head", "postprocess", "other"]


def _session(model: str) -> object:
    from zooprof.runtimes.torch_rt import TorchSession

    return TorchSession({"model": model, "input_shapes": [[1, 3, 320, 320]], "seed": 0, "threads": 1})


@pytest.mark.slow
def test_stage_times_add_up_to_the_end_to_end_median() -> None:
    """Acceptance: the stages sum to within 10 % of the end-to-end median (the timing harness's,
    and that of hook-free passes taken between the staged ones). The machine is shared, so a
    noisy attempt is repeated, up to three times."""
    from zooprof.measure.timing import measure

    session = _session("ssdlite320_mobilenet_v3_large")
    ratios = []
    for _ in range(3):
        median_s = measure(session.run, max_time=2.0, target_ci=0.02).to_dict()["latency_ms"]["median"] / 1000
        stages = session.per_stage(8)
        assert [s["stage"] for s in stages["stages"]] == STAGES
        assert stages["sum_seconds"] == pytest.approx(sum(s["seconds"] for s in stages["stages"]))
        ratios.append((stages["sum_seconds"] / median_s, stages["sum_vs_end_to_end"]))
        if all(abs(r - 1) <= 0.10 for r in ratios[-1]):
            break
    assert any(all(abs(r - 1) <= 0.10 for r in pair) for pair in ratios), ratios
    assert stages["counts"]["postprocess_detections.boxes_out"] == 300
    static = zooprof.inspect("ssdlite320_mobilenet_v3_large", use_cache=False)
    post = next(p for p in static.totals["data_dependent"]["parts"] if p["name"] == "postprocess_detections")
    assert stages["counts"]["boxes_into_nms"] == post["count"]  # same seeded weights and image


@pytest.mark.slow
def test_faster_rcnn_stage_counts_match_the_analysis() -> None:
    """The worker sees the same seeded weights and images as the analysis: the same proposals."""
    session = _session("fasterrcnn_mobilenet_v3_large_320_fpn")
    stages = session.per_stage(3)
    static = zooprof.inspect("fasterrcnn_mobilenet_v3_large_320_fpn", use_cache=False)
    roi = next(p for p in static.totals["data_dependent"]["parts"] if p["name"] == "roi_heads")
    assert stages["counts"]["proposals"] == roi["count"]
    assert stages["seconds_per_proposal"] > 0
    into_nms = sum(p.get("config", {}).get("boxes_into_nms", 0) for p in static.totals["data_dependent"]["parts"])
    assert stages["counts"]["boxes_into_nms"] == into_nms > 0
    assert stages["postprocess_seconds_per_box_into_nms"] > 0
    assert {u["name"] for u in stages["units"]} >= {
        "transform",
        "backbone.body",
        "backbone.fpn",
        "rpn",
        "roi_heads",
        "rpn.filter_proposals",
        "roi_heads.postprocess_detections",
    }


@pytest.mark.slow
def test_profile_torch_and_onnxruntime_per_stage(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(
        capsys,
        "profile",
        "ssdlite320_mobilenet_v3_large",
        "--runtime",
        "torch,onnxruntime",
        "--per-stage",
        "--max-time",
        "1",
        "--threads",
        "1",
        "-o",
        str(tmp_path / "r.json"),
    )
    assert code == 0, err
    result = json.loads((tmp_path / "r.json").read_text())
    torch_row, ort_row = result["measurements"]
    assert torch_row["status"] == ort_row["status"] == "ok"
    assert torch_row["input_shapes"] == [[1, 3, 320, 320]]
    assert [s["stage"] for s in torch_row["per_stage"]["stages"]] == STAGES
    assert ort_row["session"]["conversion"]["detector"] is True
    assert {s["stage"] for s in ort_row["per_stage"]["stages"]} >= {"backbone", "neck", "head", "postprocess"}
    assert "Per-stage time, torch batch 1" in out and "Per-stage time, onnxruntime batch 1" in out
    assert "sum of stages:" in out


@pytest.mark.slow
def test_export_failure_names_the_op(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(
        capsys,
        "profile",
        "tests.detection.models:running_max",
        "--input-shape",
        "1x8",
        "--runtime",
        "onnxruntime",
        "--max-time",
        "0.5",
        "-o",
        str(tmp_path / "r.json"),
    )
    assert code == 1
    row = json.loads((tmp_path / "r.json").read_text())["measurements"][0]
    assert row["status"] == "failed" and "at op aten::cummax" in row["reason"]
