"""The lines under the profile table for a row measured on an accelerator: the timer, the
synchronised wall clock, the harness overhead, device memory, and trtexec's summary; each figure
printed is the row's own (a hand-made row, numbers chosen to read back)."""

from __future__ import annotations

from zooprof.renderers.measurements import device_lines, runtime_label
from zooprof.result.document import ProfileResult


def result_with(row: dict) -> ProfileResult:
    return ProfileResult(model={"name": "m"}, totals={}, layers=[], measurements=[row])


def test_a_cuda_row_says_how_it_was_timed() -> None:
    row = {
        "runtime": "torch",
        "batch": 8,
        "status": "ok",
        "device": "cuda:0",
        "precision": "fp16",
        "session": {
            "device_name": "NVIDIA H200",
            "mode": "cuda graph replay",
            "cudnn_benchmark": False,
            "cuda": "13.0",
        },
        "timing": {
            "timer": "cuda events (start.record, run, end.record, end.synchronize per sample)",
            "latency_ms": {"median": 0.44},
            "wall_latency_ms": {"median": 0.4612},
            "harness_overhead": {"event_floor_us": 2.5, "per_iteration_us": 14.25, "calls": 200},
        },
        "memory": {
            "device": {
                "peak_allocated_bytes": 123_000_000,
                "peak_reserved_bytes": 140_000_000,
                "allocated_after_load_bytes": 14_000_000,
            }
        },
    }
    assert runtime_label(row) == "torch cuda:0 fp16 cuda graph"
    lines = device_lines(result_with(row))
    assert (
        lines[0]
        == "torch cuda:0 fp16 cuda graph b8: NVIDIA H200; timer: cuda events (start.record, run, end.record, end.synchronize per sample)"
    )
    assert "synchronised wall clock: median 0.461 ms" in lines[1]
    assert "2.5 µs inside each sample" in lines[2] and "14.2 µs of host time per iteration" in lines[2]
    assert (
        "123.00 MB peak allocated" in lines[3]
        and "140.00 MB peak reserved" in lines[3]
        and "14.00 MB after load" in lines[3]
    )


def test_a_cpu_row_has_no_device_lines() -> None:
    row = {"runtime": "torch", "batch": 1, "status": "ok", "device": "cpu", "timing": {"latency_ms": {"median": 1.0}}}
    assert device_lines(result_with(row)) == [] and runtime_label(row) == "torch"


def test_a_tensorrt_row_shows_trtexecs_summary() -> None:
    row = {
        "runtime": "tensorrt",
        "batch": 1,
        "status": "ok",
        "device": "cuda:0",
        "session": {"engine_bytes": 13_185_214, "build": {"cached": False, "build_seconds": 8.1}},
        "timing": {
            "timer": "trtexec",
            "latency_ms": {"median": 12.17},
            "trtexec": {"tensorrt_version": "10.16.1", "throughput_qps": 82.2},
            "compute_ms": {"median": 12.168},
            "h2d_ms": {"median": 0.0},
        },
    }
    text = "\n".join(device_lines(result_with(row)))
    assert "TensorRT 10.16.1: throughput 82.2 qps (trtexec), engine 13.19 MB, built in 8.1 s" in text
    assert "median ms: GPU compute 12.168, H2D 0.000" in text
