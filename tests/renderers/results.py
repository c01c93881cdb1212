"""ProfileResults for renderer tests, built without running a profile: a hand-made one with a
hostile layer name, and measurement rows faked in the shape zooprof profile writes."""

from __future__ import annotations

import copy
from typing import Any

from zooprof.result.document import ProfileResult

EVIL = "<img src=x onerror=alert(1)>"
BREAKOUT = "</script><!--<script>alert(2)</script>"


def hostile() -> ProfileResult:
    """Two layers: a conv named with an <img onerror> and a dense whose name tries to close the script."""
    conv = {
        "name": EVIL,
        "op": "conv",
        "source_op": "Conv2d",
        "scope": EVIL,
        "output_shape": [1, 4, 6, 6],
        "dtype": "float32",
        "kernel": [3, 3],
        "stride": [1, 1],
        "padding": [0, 0],
        "dilation": [1, 1],
        "groups": 1,
        "rf": {"size": 3, "stride": 1, "padding": 0, "aligned": True, "exact": True},
        "params": 112,
        "trainable_params": 112,
        "non_trainable_params": 0,
        "buffers": 0,
        "weight_bytes": 448,
        "macs": 3888,
        "macs_pct": 95.05,
        "flops": 7920,
        "counted": True,
        "activation_bytes": 576,
        "live_bytes": 976,
        "formula": ["(8 + 2*0 - 3)/1 + 1 = 6", "(8 + 2*0 - 3)/1 + 1 = 6"],
    }
    dense = {
        "name": BREAKOUT,
        "op": "dense",
        "source_op": "Linear",
        "scope": BREAKOUT,
        "output_shape": [1, 1],
        "dtype": "float32",
        "rf": {"size": "global", "stride": None, "padding": None, "aligned": True, "exact": True},
        "params": 145,
        "trainable_params": 145,
        "non_trainable_params": 0,
        "buffers": 0,
        "weight_bytes": 580,
        "macs": 144,
        "macs_pct": 3.52,
        "flops": 289,
        "counted": True,
        "activation_bytes": 4,
        "live_bytes": 580,
        "formula": [],
    }
    totals = {
        "params": 257,
        "trainable_params": 257,
        "non_trainable_params": 0,
        "buffers": 0,
        "macs": 4032,
        "flops": 8209,
        "weight_bytes": 1028,
        "activation_bytes": 580,
        "input_bytes": 256,
        "peak_activation_bytes": 832,
        "peak_activation_layer": EVIL,
        "macs_by_op": {"conv": 3888, "dense": 144},
        "coverage": {"counted_layers": 2, "layers": 2, "percent": 100.0, "uncounted_ops": {}},
        "shape_mismatches": 0,
        "rf_not_aligned": [],
    }
    model = {
        "name": EVIL,
        "reference": EVIL,
        "framework": "pytorch",
        "input_shape": [1, 1, 8, 8],
        "inputs": [{"name": "x", "shape": [1, 1, 8, 8], "dtype": "float32"}],
        "trace_method": "fx",
        "notes": [],
        "reference_figures": {},
    }
    env = {
        "zooprof_version": "0.1.0",
        "command": f"zooprof profile '{EVIL}'",
        "created": "2026-01-01T00:00:00+0000",
        "board": {"model": EVIL},
    }
    return ProfileResult(model, totals, [conv, dense], env)


def samples(n: int, base: float) -> list[float]:
    """Deterministic, right-skewed latency samples around `base` ms."""
    return [base * (1 + 0.02 * ((i * 7) % 11) / 10 + (0.3 if i % 17 == 0 else 0.0)) for i in range(n)]


def timing(samples_ms: list[float]) -> dict[str, Any]:
    s = sorted(samples_ms)
    n = len(s)

    def pct(p: float) -> float:
        return s[min(n - 1, round(p * (n - 1)))]

    return {
        "latency_ms": {
            "median": pct(0.5),
            "p90": pct(0.9),
            "p95": pct(0.95),
            "p99": pct(0.99),
            "mean": sum(s) / n,
            "std": 0.1,
            "min": s[0],
            "max": s[-1],
            "ci_low": pct(0.45),
            "ci_high": pct(0.55),
            "cv": 0.05,
            "ci_rel_halfwidth": 0.01,
            "n": n,
            "outliers": 1,
        },
        "warmup_iterations": 3,
        "warmup_stable": True,
        "calls_per_sample": 1,
        "stop_reason": "target_ci",
        "wall_time_s": 1.0,
        "samples_ms": samples_ms,
        "timestamps_s": [[i * 0.01, i * 0.01 + 0.005] for i in range(n)],
    }


def measurement(
    runtime: str,
    batch: int,
    base_ms: float,
    layer_names: list[str] | None = None,
    power: dict[str, Any] | None = None,
    n: int = 200,
) -> dict[str, Any]:
    t = timing(samples(n, base_ms))
    median = t["latency_ms"]["median"]
    m: dict[str, Any] = {
        "runtime": runtime,
        "batch": batch,
        "threads": None,
        "input_shapes": [[batch, 3, 224, 224]],
        "status": "ok",
        "timing": t,
        "session": {"engine": runtime, "version": "1.0", "threads": 2},
        "memory": {
            "rss_before_load_bytes": 10**7,
            "rss_after_load_bytes": 3 * 10**8,
            "peak_rss_bytes": 3 * 10**8,
            "peak_covers": "the timed run",
        },
        "load_seconds": 0.5,
        "worker_seconds": 3.0,
        "throughput_per_s": round(batch * 1000.0 / median, 3),
        "achieved_gflops": 12.5,
    }
    if layer_names:
        secs = [0.0001 * (1 + (i % 5)) for i in range(len(layer_names))]
        total = sum(secs)
        m["per_layer"] = {
            "method": "fx interpreter, wall time per layer",
            "iterations": 20,
            "layers": [
                {"name": name, "seconds": s, "share": round(s / total, 5)}
                for name, s in zip(layer_names, secs, strict=True)
            ],
            "sum_seconds": total,
            "pass_seconds": total * 1.05,
            "sum_vs_median": round(total * 1000 / median, 4),
        }
    if power is not None:
        m["power"] = power
    return m


def power_ok() -> dict[str, Any]:
    t = [round(i * 0.02, 2) for i in range(400)]
    return {
        "status": "ok",
        "sensor": "jetson-sysfs",
        "total_source": "VDD_IN",
        "sample_hz_requested": 50,
        "sample_hz_achieved": 48.7,
        "samples": 400,
        "window_s": 8.0,
        "iterations": 1234,
        "avg_power_mw": 5123.0,
        "idle_power_mw": 2100.0,
        "idle_seconds": 3.0,
        "energy_per_inference_mj": 2.45,
        "energy_per_inference_raw_mj": 4.1,
        "rails": {
            "VDD_GPU_SOC": {"unit": "mW", "avg": 1234.0, "energy_mj": 10.1},
            "VDD_CPU_CV": {"unit": "mW", "avg": 800.0, "energy_mj": 6.4},
        },
        "temperatures_c": {"cpu": {"start": 40.1, "end": 45.2, "max": 46.0}},
        "timeline": {
            "t_s": t,
            "total_mw": [5000 + 200 * ((i * 3) % 7) for i in range(400)],
            "rails": {"VDD_GPU_SOC": [1200 + 50 * (i % 4) for i in range(400)], "VDD_CPU_CV": [800.0] * 400},
        },
    }


def power_na() -> dict[str, Any]:
    return {"status": "n/a", "reason": "no power sensor on this machine: not a Jetson, no NVML GPU"}


def failed(runtime: str) -> dict[str, Any]:
    return {
        "runtime": runtime,
        "batch": 1,
        "threads": None,
        "input_shapes": [[1, 3, 224, 224]],
        "status": "failed",
        "failure": "unsupported",
        "reason": f"no route from this model to {runtime} <b>",
    }


def with_measurements(static: ProfileResult) -> ProfileResult:
    """A copy of a static result with three measurements: torch with per-layer times and power,
    onnxruntime without a power sensor, and one failure."""
    r = copy.deepcopy(static)
    names = [x["name"] for x in r.layers]
    r.measurements = [
        measurement("torch", 1, 12.0, names, power_ok()),
        measurement("onnxruntime", 1, 8.0, power=power_na()),
        failed("tflite"),
    ]
    r.environment = {
        **r.environment,
        "board": {
            "model": "NVIDIA Jetson Orin Nano (fake)",
            "l4t": "36.4.0",
            "jetpack": "6.1",
            "nvpmodel": "15W",
            "jetson_clocks": True,
        },
    }
    return r


def real_hostile() -> ProfileResult:
    """tests.renderers.hostile_model analysed by the PyTorch frontend (a layer named `<img ...>`)."""
    from zooprof.measure.static import inspect

    return inspect("tests.renderers.hostile_model:build", input_shape="1x3x16x16")


#: compare rows (zooprof.result.summary) with a hostile model name, for the comparison page
COMPARE_ROWS = [
    {
        "model": EVIL,
        "runtime": "torch",
        "batch": 1,
        "status": "ok",
        "params": 257,
        "macs": 4032,
        "weights_mb": 0.001,
        "peak_activation_mb": 0.0008,
        "latency_median_ms": 0.5,
        "latency_p99_ms": 0.9,
        "throughput_per_s": 2000.0,
        "energy_per_inference_mj": None,
        "achieved_gflops": 0.016,
        "source": "a/result.json",
        "pareto": True,
    },
    {
        "model": "vgg16",
        "runtime": "onnxruntime",
        "batch": 1,
        "status": "ok",
        "params": 138357544,
        "macs": 15470264320,
        "weights_mb": 553.43,
        "peak_activation_mb": 12.85,
        "latency_median_ms": 120.25,
        "latency_p99_ms": 131.0,
        "throughput_per_s": 8.3,
        "energy_per_inference_mj": 512.5,
        "achieved_gflops": 257.3,
        "source": "vgg16",
        "pareto": False,
    },
    {
        "model": "mobilenet_v2",
        "runtime": "tflite",
        "batch": 1,
        "status": "failed",
        "reason": "no route <tflite>",
        "params": 3504872,
        "macs": 300774272,
        "weights_mb": 14.02,
        "peak_activation_mb": None,
        "latency_median_ms": None,
        "latency_p99_ms": None,
        "throughput_per_s": None,
        "energy_per_inference_mj": None,
        "achieved_gflops": None,
        "source": "mobilenet_v2",
        "pareto": False,
    },
    {
        "model": "mobilenet_v2",
        "runtime": "onnxruntime",
        "batch": 1,
        "status": "ok",
        "params": 3504872,
        "macs": 300774272,
        "weights_mb": 14.02,
        "peak_activation_mb": 9.63,
        "latency_median_ms": 0.3,
        "latency_p99_ms": 0.4,
        "throughput_per_s": 3333.3,
        "energy_per_inference_mj": None,
        "achieved_gflops": 2005.2,
        "source": "mobilenet_v2",
        "pareto": True,
    },
    {
        "model": "resnet18",
        "runtime": None,
        "batch": 1,
        "status": "static",
        "reason": "not measured (static analysis only)",
        "params": 11689512,
        "macs": 1814073344,
        "weights_mb": 46.8,
        "peak_activation_mb": 6.42,
        "latency_median_ms": None,
        "latency_p99_ms": None,
        "throughput_per_s": None,
        "energy_per_inference_mj": None,
        "achieved_gflops": None,
        "source": "r18.json",
        "pareto": False,
    },
]
