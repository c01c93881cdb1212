"""`zooprof profile --runtime tensorrt` end to end with a stand-in trtexec that replays recorded
TensorRT 10.16 and 8.5 output (tests/fixtures/trtexec): engine build and cache, the flags each
option gives, trtexec's figures in the row, zooprof's statistics over its per-inference times,
the per-layer view with fused layers, and a failed build as that row's failure."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from tests.helpers import run
from tests.runtimes.onnx_models import tiny_onnx
from zooprof.runtimes.tensorrt_rt import engine_layers, host_window, map_to_ir, module_path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "trtexec"
FAKE = FIXTURES / "fake_trtexec.py"

pytest.importorskip("onnx")


@pytest.fixture
def trt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    calls = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_TRTEXEC_CALLS", str(calls))
    monkeypatch.setenv("ZOOPROF_TRTEXEC", str(FAKE))
    monkeypatch.setenv("ZOOPROF_CACHE_DIR", str(tmp_path / "cache"))
    return {"model": tiny_onnx(tmp_path / "tiny.onnx"), "calls": calls, "out": tmp_path / "r.json"}


def calls(path: Path) -> list[list[str]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def profile(capsys: pytest.CaptureFixture[str], trt: dict[str, Path], *args: str) -> tuple[int, str, str, dict]:
    code, out, err = run(capsys, "profile", str(trt["model"]), "--runtime", "tensorrt", "-o", str(trt["out"]), *args)
    row = json.loads(trt["out"].read_text())["measurements"][0] if trt["out"].exists() else {}
    return code, out, err, row


@pytest.mark.slow
def test_tensorrt_10_build_time_and_per_layer(
    capsys: pytest.CaptureFixture[str], trt: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TRTEXEC_SCENARIO", str(FIXTURES / "trt10"))
    code, out, err, row = profile(capsys, trt, "--per-layer", "--precision", "fp16")
    assert code == 0, err
    assert row["status"] == "ok" and row["device"] == "cuda:0" and row["precision"] == "fp16"
    build, timed = calls(trt["calls"])
    assert any(a.startswith("--onnx=") for a in build) and "--fp16" in build
    assert any(a.startswith("--saveEngine=") for a in build) and "--shapes='x':1x3x8x8" in build
    assert any(a.startswith("--loadEngine=") for a in timed) and any(a.startswith("--exportTimes=") for a in timed)
    assert "--separateProfileRun" in timed and "--useCudaGraph" not in timed
    # zooprof's median is the median of the per-inference latencies trtexec exported
    recorded = [r["latencyMs"] for r in json.loads((FIXTURES / "trt10" / "times.json").read_text())]
    lat = row["timing"]["latency_ms"]
    assert lat["n"] == len(recorded) and lat["median"] == pytest.approx(statistics.median(recorded))
    log = row["timing"]["trtexec"]
    assert log["tensorrt_version"] == "10.16.1" and log["throughput_qps"] is not None
    assert row["session"]["engine_bytes"] == 13_185_214  # the recorded engine's size (trt10/engine_bytes)
    assert row["session"]["build"]["cached"] is False and row["session"]["tensorrt_version"] == "10.16.1"
    assert row["timing"]["compute_ms"]["median"] > 0
    pl = row["per_layer"]
    assert pl["method"].startswith("trtexec --exportProfile") and pl["layers"]
    assert any(layer["fused"] for layer in pl["layers"])
    assert pl["sum_vs_median"] is not None
    assert "Per-layer time, tensorrt cuda:0 fp16 batch 1" in out and "vs end-to-end median" in out
    assert "TensorRT 10.16.1: throughput" in out

    # the same model and options again: the cached engine is loaded, not rebuilt
    trt["calls"].unlink()
    code, out, err, row = profile(capsys, trt, "--precision", "fp16")
    assert code == 0, err
    (only,) = calls(trt["calls"])
    assert any(a.startswith("--loadEngine=") for a in only) and not any(a.startswith("--onnx=") for a in only)
    assert row["session"]["build"]["cached"] is True and row["session"]["tensorrt_version"] == "10.16.1"


@pytest.mark.slow
def test_tensorrt_8_5_gives_the_same_row_fields(
    capsys: pytest.CaptureFixture[str], trt: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TRTEXEC_SCENARIO", str(FIXTURES / "trt10"))
    code, _, err, row10 = profile(capsys, trt)
    assert code == 0, err
    trt["out"].unlink()
    monkeypatch.setenv("ZOOPROF_CACHE_DIR", str(trt["model"].parent / "cache85"))
    monkeypatch.setenv("FAKE_TRTEXEC_SCENARIO", str(FIXTURES / "trt85"))
    code, _, err, row85 = profile(capsys, trt, "--dla", "0", "--cuda-graphs")
    assert code == 0, err
    assert row85["timing"]["trtexec"]["tensorrt_version"] == "8.5.2"
    assert set(row85["timing"]) == set(row10["timing"]) and set(row85["session"]) == set(row10["session"])
    for key in ("throughput_qps", "latency_ms", "gpu_compute_ms"):
        assert row85["timing"]["trtexec"][key] is not None and row10["timing"]["trtexec"][key] is not None
    assert row85["device"] == "dla:0"
    build, timed = calls(trt["calls"])[-2:]
    assert "--useDLACore=0" in build and "--allowGPUFallback" in build and "--useCudaGraph" in timed


@pytest.mark.slow
def test_a_failed_engine_build_is_that_rows_failure_with_the_last_error(
    capsys: pytest.CaptureFixture[str], trt: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TRTEXEC_SCENARIO", str(FIXTURES / "failed_build"))
    code, out, err, row = profile(capsys, trt)
    assert code == 1 and row["status"] == "failed"
    recorded = (FIXTURES / "failed_build" / "build.log").read_text().splitlines()
    last_error = [line for line in recorded if "[E]" in line][-1].split("[E] ", 1)[1]
    assert row["reason"].startswith("ZooprofError: trtexec engine build failed (exit 1): ")
    assert last_error.strip() in row["reason"]
    assert "Traceback" not in out + err


def test_tensorrt_without_trtexec_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "profile", str(tiny_onnx(tmp_path / "m.onnx")), "--runtime", "tensorrt")
    assert code == 2 and "--runtime tensorrt: trtexec not found" in err and "Traceback" not in err


def test_module_path_of_torch_export_names() -> None:
    assert module_path("/layer1/layer1.0/conv1/Conv") == "layer1.0.conv1"
    assert module_path("/features/features.0/features.0.0/Conv") == "features.0.0"
    assert module_path("/Flatten") is None and module_path("Conv_0") is None


def test_engine_layers_map_fused_layers_to_ir_layers() -> None:
    profile = {
        "count": 10,
        "layers": [
            {"name": "/conv/Conv + /act/Relu", "median_ms": 0.5, "average_ms": 0.6, "percentage": 80.0},
            {"name": "Reformatting CopyNode for Input Tensor 0 to /conv/Conv", "median_ms": None, "average_ms": 0.1},
        ],
    }
    info = [
        {"name": "/conv/Conv + /act/Relu", "type": "CaskConvolution", "onnx_nodes": ["/conv/Conv", "/act/Relu"]},
        {
            "name": "Reformatting CopyNode for Input Tensor 0 to /conv/Conv",
            "type": "Reformat",
            "onnx_nodes": [],
            "reformat": True,
        },
    ]
    record = engine_layers(profile, info)
    first, copy = record["layers"]
    assert first["fused"] and first["seconds"] == pytest.approx(0.0005) and first["op"] == "CaskConvolution"
    assert copy["reformat"] and not copy["fused"] and copy["seconds"] == pytest.approx(0.0001)  # average: no median
    assert record["sum_seconds"] == pytest.approx(0.0006) and record["iterations"] == 10
    map_to_ir(record, ["conv", "act", "fc"])  # a PyTorch model's IR: module paths
    assert first["ir_layers"] == ["conv", "act"] and copy["ir_layers"] == []
    map_to_ir(record, ["/conv/Conv", "/act/Relu"])  # an ONNX model's IR: the node names
    assert first["ir_layers"] == ["/conv/Conv", "/act/Relu"]


def test_host_window_ends_at_trtexec_exit() -> None:
    times = {"start_ms": [10.0, 20.0], "end_ms": [15.0, 25.0]}
    stamps = host_window(times, wall_start=100.0, wall_end=200.0)
    # the last inference ends at 25 ms on trtexec's clock = 200 s on the host's: shift 199.975 s
    assert stamps == [[pytest.approx(199.985), pytest.approx(199.99)], [pytest.approx(199.995), pytest.approx(200.0)]]
    assert host_window({}, 1.0, 2.0) == [[1.0, 2.0]]
