"""trtexec_output against real trtexec recordings (tests/fixtures/trtexec/SOURCES.md).

Every expected figure is a literal read off the recorded text by hand; the comment above it
quotes the line it comes from.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zooprof.runtimes.trtexec_output import (
    STAT_KEYS,
    fused_onnx_nodes,
    parse_layer_info,
    parse_log,
    parse_profile,
    parse_times,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "trtexec"
ROW_FIELDS = ("throughput_qps", "latency_ms", "gpu_compute_ms", "h2d_ms", "d2h_ms", "enqueue_ms")


def _log(name: str) -> dict:
    return parse_log((FIXTURES / "logs" / name).read_text(encoding="utf-8"))


def _json(relative: str):
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))


def test_trt85_jetson_orin_nano_performance_summary() -> None:
    log = _log("trt8502_orin_nano_yolox_perf_tail.log")
    # &&&& PASSED TensorRT.trtexec [TensorRT v8502] # trtexec --onnx=./yolox_s_leaky.onnx ...
    assert log["tensorrt_version"] == "8.5.2"
    assert log["passed"] is True
    assert log["command"] == "trtexec --onnx=./yolox_s_leaky.onnx --saveEngine=./fp16.trt --fp16"
    # Throughput: 97.8649 qps
    assert log["throughput_qps"] == 97.8649
    # Latency: min = 10.642 ms, max = 10.9861 ms, mean = 10.7971 ms, median = 10.7972 ms,
    # percentile(90%) = 10.9329 ms, percentile(95%) = 10.949 ms, percentile(99%) = 10.9744 ms
    assert log["latency_ms"] == {
        "min": 10.642, "max": 10.9861, "mean": 10.7971, "median": 10.7972,
        "p90": 10.9329, "p95": 10.949, "p99": 10.9744,
    }  # fmt: skip
    # GPU Compute Time: min = 10.0343 ms, max = 10.3575 ms, mean = 10.1824 ms,
    # median = 10.1851 ms, percentile(90%) = 10.3206 ms, percentile(95%) = 10.338 ms,
    # percentile(99%) = 10.356 ms
    assert log["gpu_compute_ms"] == {
        "min": 10.0343, "max": 10.3575, "mean": 10.1824, "median": 10.1851,
        "p90": 10.3206, "p95": 10.338, "p99": 10.356,
    }  # fmt: skip
    # H2D Latency: min = 0.299072 ms, ... percentile(99%) = 0.354126 ms
    assert log["h2d_ms"]["min"] == 0.299072 and log["h2d_ms"]["p99"] == 0.354126
    # D2H Latency: ... mean = 0.29821 ms ... percentile(95%) = 0.304077 ms
    assert log["d2h_ms"]["mean"] == 0.29821 and log["d2h_ms"]["p95"] == 0.304077
    # Enqueue Time: min = 1.1098 ms, max = 2.30975 ms, ... median = 1.19873 ms
    assert log["enqueue_ms"]["max"] == 2.30975 and log["enqueue_ms"]["median"] == 1.19873
    # Total Host Walltime: 3.0348 s / Total GPU Compute Time: 3.02418 s
    assert log["host_walltime_s"] == 3.0348
    assert log["gpu_compute_total_s"] == 3.02418
    # the published tail has no build or device sections
    assert log["build_seconds"] is None and log["device"] is None and log["precision"] is None
    assert log["last_error"] is None and log["warnings"] == 0


def test_trt85_jetson_xavier_full_log_with_dump_profile() -> None:
    log = _log("trt8502_xavier_lprnet_dumpprofile.log")
    # [I] TensorRT version: 8.5.2 / [I] Selected Device: Xavier / [I] Precision: FP32
    assert log["tensorrt_version"] == "8.5.2"
    assert log["device"] == "Xavier"
    assert log["precision"] == "fp32"
    # [I] CUDA Graph: Disabled / [I] DLACore: (empty)
    assert log["cuda_graph"] is False and log["dla_core"] is None
    # [I] [TRT] Loaded engine size: 28 MiB  (no "Created engine with size" on a load)
    assert log["engine_bytes"] == 28 * 1024 * 1024
    # --dumpProfile without --separateProfileRun: "The e2e network timing is not reported"
    assert log["throughput_qps"] is None
    assert all(value is None for value in log["latency_ms"].values())
    # one line: [W] Shape missing for input with dynamic shape: ...
    assert log["warnings"] == 1
    assert log["passed"] is True


def test_trt10_build_and_run() -> None:
    log = _log("trt101601_h100_build_and_run.log")
    # [I] TensorRT version: 10.16.1  (&&&& RUNNING ... [TensorRT v101601] [b11])
    assert log["tensorrt_version"] == "10.16.1"
    assert log["passed"] is True
    # [I] Selected Device: NVIDIA H100 PCIe / [I] Precision: FP32 / [I] CUDA Graph: Disabled
    assert log["device"] == "NVIDIA H100 PCIe"
    assert log["precision"] == "fp32"
    assert log["cuda_graph"] is False and log["dla_core"] is None
    # [I] Engine built in 8.09138 sec.
    assert log["build_seconds"] == 8.09138
    # [I] Created engine with size: 12.5744 MiB  -> 12.5744 * 1048576 = 13185214.2
    assert log["engine_bytes"] == 13185214
    # [I] Throughput: 15374.3 qps
    assert log["throughput_qps"] == 15374.3
    # [I] Latency: min = 0.0410156 ms, max = 0.14917 ms, mean = 0.0441053 ms,
    # median = 0.0440674 ms, percentile(90%) = 0.0450439 ms, percentile(95%) = 0.0458984 ms,
    # percentile(99%) = 0.0512695 ms
    assert log["latency_ms"] == {
        "min": 0.0410156, "max": 0.14917, "mean": 0.0441053, "median": 0.0440674,
        "p90": 0.0450439, "p95": 0.0458984, "p99": 0.0512695,
    }  # fmt: skip
    # [I] GPU Compute Time: min = 0.0331421 ms, ... median = 0.0361328 ms, ...
    # percentile(99%) = 0.041748 ms
    assert log["gpu_compute_ms"]["min"] == 0.0331421
    assert log["gpu_compute_ms"]["median"] == 0.0361328
    assert log["gpu_compute_ms"]["p99"] == 0.041748
    # [I] Total Host Walltime: 3.00013 s / [I] Total GPU Compute Time: 1.6586 s
    assert log["host_walltime_s"] == 3.00013 and log["gpu_compute_total_s"] == 1.6586
    # four [W] lines: two while parsing, two after the summary
    assert log["warnings"] == 4 and log["last_error"] is None


def test_trt85_and_trt10_give_the_same_row_fields() -> None:
    trt85 = _log("trt8502_orin_nano_yolox_perf_tail.log")
    trt10 = _log("trt101601_h100_build_and_run.log")
    assert set(trt85) == set(trt10)
    for field in ROW_FIELDS:
        assert trt85[field] is not None and trt10[field] is not None
        if isinstance(trt85[field], dict):
            assert set(trt85[field]) == set(trt10[field]) == set(STAT_KEYS)
            assert None not in trt85[field].values() and None not in trt10[field].values()


def test_trt84_prints_only_the_99th_percentile() -> None:
    log = _log("trt8401_gtx1070_perf_tail.log")
    # [TensorRT v8401]; Latency: min = 0.15918 ms, max = 0.523193 ms, mean = 0.166299 ms,
    # median = 0.161987 ms, percentile(99%) = 0.388947 ms
    assert log["tensorrt_version"] == "8.4.1"
    assert log["latency_ms"] == {
        "min": 0.15918, "max": 0.523193, "mean": 0.166299, "median": 0.161987,
        "p90": None, "p95": None, "p99": 0.388947,
    }  # fmt: skip
    # GPU Compute Time: min = 0.153564 ms, ... percentile(99%) = 0.382935 ms
    assert log["gpu_compute_ms"]["p99"] == 0.382935
    # Throughput: 6207.5 qps
    assert log["throughput_qps"] == 6207.5


def test_trt86_summary() -> None:
    log = _log("trt8600_rtx3090_perf_tail.log")
    # [TensorRT v8600]; Throughput: 21009.2 qps
    assert log["tensorrt_version"] == "8.6.0" and log["throughput_qps"] == 21009.2
    # Latency: ... percentile(90%) = 0.0532227 ms, percentile(95%) = 0.053772 ms,
    # percentile(99%) = 0.0630798 ms
    assert (log["latency_ms"]["p90"], log["latency_ms"]["p95"], log["latency_ms"]["p99"]) == (
        0.0532227,
        0.053772,
        0.0630798,
    )
    # Total Host Walltime: 3.00012 s / Total GPU Compute Time: 2.84346 s
    assert log["host_walltime_s"] == 3.00012 and log["gpu_compute_total_s"] == 2.84346
    assert log["warnings"] == 2


def test_older_multi_line_summary() -> None:
    log = _log("trt_issue2054_old_summary_excerpt.log")
    # [I] Host Latency / min: 1.64058 ms / max: 6.2915 ms / mean: 1.66069 ms /
    # median: 1.65601 ms / percentile: 1.67065 ms at 99% / throughput: 0 qps / walltime: 3.00461 s
    assert log["latency_ms"] == {
        "min": 1.64058, "max": 6.2915, "mean": 1.66069, "median": 1.65601,
        "p90": None, "p95": None, "p99": 1.67065,
    }  # fmt: skip
    assert log["throughput_qps"] == 0.0 and log["host_walltime_s"] == 3.00461
    assert log["tensorrt_version"] is None and log["passed"] is None


def test_percentile_variants_on_one_line() -> None:
    text = (
        "[I] GPU Compute Time: min = 1 ms, max = 4 ms, mean = 2 ms, median = 2 ms, "
        "percentile: 99% = 3.5 ms, percentile(99.9%) = 3.9 ms\n"
    )
    stats = parse_log(text)["gpu_compute_ms"]
    assert stats["p99"] == 3.5 and stats["max"] == 4.0
    assert stats["p90"] is None  # 99.9 has no key of its own and is left out


def test_failed_build_last_error() -> None:
    log = _log("trt8205_failed_qat_build.log")
    # [07/15/2022-05:26:40] [E] Engine set up failed
    # &&&& FAILED TensorRT.trtexec [TensorRT v8205] # trtexec --verbose ... --saveEngine=...
    assert log["passed"] is False
    assert log["last_error"] == "Engine set up failed"
    assert log["tensorrt_version"] == "8.2.5"
    # ten [E] lines in the recording
    assert log["errors"] == 10
    second = _log("trt8204_failed_parse_pad.log")
    assert second["passed"] is False and second["last_error"] == "Engine set up failed"
    assert second["tensorrt_version"] == "8.2.4"


def test_options_from_the_command_line_and_dla() -> None:
    text = (
        "&&&& RUNNING TensorRT.trtexec [TensorRT v100300] # trtexec --loadEngine=a.engine "
        "--useCudaGraph --useDLACore=1\n"
    )
    log = parse_log(text)
    assert log["tensorrt_version"] == "10.3.0"
    assert log["cuda_graph"] is True and log["dla_core"] == 1
    assert log["passed"] is None
    shown = parse_log("=== System Options ===\n[I] DLACore: 0\n[I] CUDA Graph: Enabled\n")
    assert shown["dla_core"] == 0 and shown["cuda_graph"] is True


@pytest.mark.parametrize("text", ["", "garbage\n\x00\n", "[I] Latency: min = x ms"])
def test_bad_text_gives_nones(text: str) -> None:
    log = parse_log(text)
    assert log["throughput_qps"] is None and log["tensorrt_version"] is None
    assert all(value is None for value in log["latency_ms"].values())


def test_parse_times() -> None:
    data = _json("trt85/times.json")
    times = parse_times(data)
    # 263 records; the first: "startEnqMs" : 16.6644, "endEnqMs" : 16.9316, ...
    # "h2dMs" : 0, "computeMs" : 13.0181, "d2hMs" : 0, "latencyMs" : 13.0181
    assert all(len(values) == 263 for values in times.values())
    assert times["latency_ms"][0] == 13.0181 and times["compute_ms"][0] == 13.0181
    assert times["h2d_ms"][0] == 0.0 and times["d2h_ms"][0] == 0.0
    assert times["enqueue_ms"][0] == pytest.approx(16.9316 - 16.6644)
    # the last: "startEnqMs" : 3209.2, "endEnqMs" : 3209.21, ... "latencyMs" : 12.1631
    assert times["latency_ms"][-1] == 12.1631
    assert times["enqueue_ms"][-1] == pytest.approx(0.01)


def test_parse_times_derives_durations_from_start_and_end() -> None:
    record = {"startEnqMs": 1.0, "endEnqMs": 1.5, "startH2dMs": 2.0, "endH2dMs": 2.25}
    record |= {"startComputeMs": 2.25, "endComputeMs": 4.25, "startD2hMs": 4.25, "endD2hMs": 4.5}
    times = parse_times([record, "junk", {"latencyMs": True}])
    assert times == {
        "latency_ms": [2.5], "compute_ms": [2.0], "h2d_ms": [0.25], "d2h_ms": [0.25],
        "enqueue_ms": [0.5], "start_ms": [2.0], "end_ms": [4.5],
    }  # fmt: skip
    assert parse_times({"not": "a list"}) == {key: [] for key in times}


def test_parse_profile_with_median() -> None:
    profile = parse_profile(_json("trt85/profile.json"))
    # { "count" : 1 } then 32 layers; the first:
    # { "name" : "Conv_0 + Relu_1", "timeMs" : 0.52224, "averageMs" : 0.52224,
    #   "medianMs" : 0.52224, "percentage" : 24.5902 }
    assert profile["count"] == 1 and len(profile["layers"]) == 32
    assert profile["layers"][0] == {
        "name": "Conv_0 + Relu_1", "average_ms": 0.52224, "median_ms": 0.52224,
        "percentage": 24.5902, "total_ms": 0.52224,
    }  # fmt: skip


def test_parse_profile_without_median() -> None:
    profile = parse_profile(_json("exports/trex_2022_mobilenet_qat_exportProfile_no_median.json"))
    # { "count" : 4216 }, { "name" : "QuantizeLinear_2", "timeMs" : 51.4526,
    #   "averageMs" : 0.0122041, "percentage" : 1.88608 }
    assert profile["count"] == 4216 and len(profile["layers"]) == 85
    assert profile["layers"][0] == {
        "name": "QuantizeLinear_2", "average_ms": 0.0122041, "median_ms": None,
        "percentage": 1.88608, "total_ms": 51.4526,
    }  # fmt: skip
    assert parse_profile("nonsense") == {"count": None, "layers": []}


def test_layer_info_detailed_with_metadata() -> None:
    layers = parse_layer_info(_json("trt10/layers.json"))
    assert len(layers) == 9
    # "Name": "node_conv2d + node_relu", "LayerType": "CaskConvolution",
    # "Metadata": "[ONNX Layer: node_conv2d]\u001e[ONNX Layer: node_relu]"
    assert layers[0] == {
        "name": "node_conv2d + node_relu", "type": "CaskConvolution",
        "onnx_nodes": ["node_conv2d", "node_relu"], "fused": True, "reformat": False,
    }  # fmt: skip
    # "node_max_pool2d", "Metadata": "[ONNX Layer: node_max_pool2d]"
    assert layers[1]["onnx_nodes"] == ["node_max_pool2d"] and not layers[1]["fused"]
    # a Myelin layer joined with \u001f: "[ONNX Layer: node_linear]\u001f[ONNX Layer: node_relu_2]"
    assert layers[4]["onnx_nodes"] == ["node_linear", "node_relu_2"]
    # "__myl_CastReshCast_myl4_4" has "Metadata": "" -> no ONNX node, but not a reformat
    assert layers[8]["onnx_nodes"] == [] and layers[8]["reformat"] is False


def test_layer_info_detailed_without_metadata() -> None:
    layers = parse_layer_info(_json("trt85/layers.json"))
    assert len(layers) == 32
    # "Name": "Conv_5 + Add_6 + Relu_7", "LayerType": "CaskConvolution"
    assert layers[4]["onnx_nodes"] == ["Conv_5", "Add_6", "Relu_7"] and layers[4]["fused"]
    # "Name": "Reformatting CopyNode for Output Tensor 0 to MaxPool_2", "LayerType": "Reformat"
    assert layers[2]["type"] == "Reformat" and layers[2]["reformat"] is True
    assert layers[2]["onnx_nodes"] == []
    assert sum(layer["reformat"] for layer in layers) == 8


def test_layer_info_names_only() -> None:
    layers = parse_layer_info(_json("exports/trt8600_exportLayerInfo_names_only.json"))
    # {"Layers": ["Reformatting CopyNode for Input Tensor 0 to Conv-1 + ReLU-2",
    #  "Conv-1 + ReLU-2", ... "(Unnamed Layer* 32) [Shuffle]"], "Bindings": [...]}
    assert len(layers) == 15
    assert layers[0]["reformat"] is True and layers[0]["onnx_nodes"] == []
    assert layers[1] == {
        "name": "Conv-1 + ReLU-2", "type": None, "onnx_nodes": ["Conv-1", "ReLU-2"],
        "fused": True, "reformat": False,
    }  # fmt: skip
    assert layers[7]["onnx_nodes"] == ["Transpose-7", "Reshape-7", "reshape_before_MatMul-9"]
    assert layers[14]["onnx_nodes"] == [] and layers[14]["reformat"] is False
    assert parse_layer_info({"Layers": [3, {"no": "name"}]}) == []
    assert parse_layer_info(None) == []


@pytest.mark.parametrize(
    ("name", "nodes"),
    [
        ("Conv_0 + Relu_1", ["Conv_0", "Relu_1"]),
        ("/features/0/Conv + /features/2/Relu", ["/features/0/Conv", "/features/2/Relu"]),
        ("PWN(PWN(/act/Sigmoid), /act/Mul)", ["/act/Sigmoid", "/act/Mul"]),
        # from the 8.5 Xavier log's profile table
        ("conv1 + PWN(re_lu_clip)", ["conv1", "re_lu_clip"]),
        ("{ForeignNode[lstm_W...Max_reduce_min]}", ["lstm_W", "Max_reduce_min"]),
        ("Reformatting CopyNode for Input Tensor 0 to conv1 + PWN(re_lu_clip)", []),
        ("[HostToDeviceCopy 0]", []),
        (
            "CCT_OCR_1/rescaling_1/Cast/x:0 + (Unnamed Layer* 2) [Shuffle] + CCT_OCR_1/rescaling_1/mul",
            ["CCT_OCR_1/rescaling_1/Cast/x:0", "CCT_OCR_1/rescaling_1/mul"],
        ),
        ("PWN(PWN(A, B + (Unnamed Layer* 16) [Shuffle] + C), D)", ["A", "B", "C", "D"]),
        ("MaxPool_2", ["MaxPool_2"]),
        ("", []),
    ],
)
def test_fused_onnx_nodes(name: str, nodes: list[str]) -> None:
    assert fused_onnx_nodes(name) == nodes
