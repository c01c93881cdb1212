"""Build tests/golden/tiny_result.json: a small fixed ProfileResult for the golden tests.

Run once by hand (`python -m tests.golden.make_fixture`); the JSON is checked in, so the golden
tests depend on neither torch nor later changes to the analyses. The static figures are
checked against a hand calculation in test_golden.py; the measurements are invented.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def tiny_graph() -> Any:
    from tests.conftest import graph, layer, t
    from zooprof.ir.graph import ParamSpec
    from zooprof.ir.ops import OpKind

    x = t("x", 1, 3, 8, 8)
    conv = t("conv1", 1, 4, 8, 8)
    relu = t("relu1", 1, 4, 8, 8)
    pool = t("pool1", 1, 4, 4, 4)
    weird = t("weird", 1, 4, 4, 4)
    flat = t("flatten", 1, 64)
    fc = t("fc", 1, 10)
    return graph(
        [x],
        [
            layer(
                "conv1",
                OpKind.CONV,
                [x],
                conv,
                params=(ParamSpec("conv1.weight", (4, 3, 3, 3)), ParamSpec("conv1.bias", (4,))),
                kernel=(3, 3),
                stride=(1, 1),
                padding=(1, 1),
                dilation=(1, 1),
                groups=1,
                in_channels=3,
                out_channels=4,
                bias=True,
            ),
            layer("relu1", OpKind.RELU, [conv], relu, inplace=True),
            layer("pool1", OpKind.MAXPOOL, [relu], pool, kernel=(2, 2), stride=(2, 2), padding=(0, 0)),
            layer("weird", OpKind.UNKNOWN, [pool], weird),
            layer("flatten", OpKind.FLATTEN, [weird], flat),
            layer(
                "fc",
                OpKind.DENSE,
                [flat],
                fc,
                params=(ParamSpec("fc.weight", (10, 64)), ParamSpec("fc.bias", (10,))),
                in_features=64,
                out_features=10,
                bias=True,
            ),
        ],
    )


def measurement(runtime: str, median: float, p99: float, power: dict[str, Any] | None) -> dict[str, Any]:
    macs = 7552
    m: dict[str, Any] = {
        "runtime": runtime,
        "batch": 1,
        "threads": 1,
        "input_shapes": [[1, 3, 8, 8]],
        "device": "cpu",
        "precision": "fp32",
        "status": "ok",
        "timing": {
            "latency_ms": {
                "median": median,
                "p90": p99 * 0.9,
                "p99": p99,
                "mean": median * 1.05,
                "min": median * 0.9,
                "n": 100,
            }
        },
        "memory": {"peak_rss_bytes": 150_000_000},
        "throughput_per_s": round(1000.0 / median, 3),
        "achieved_gflops": round(2 * macs / (median / 1000.0) / 1e9, 3),
    }
    if power is not None:
        m["power"] = power
    return m


def tiny_result() -> dict[str, Any]:
    from zooprof.analysis import analyze

    g = tiny_graph()
    a = analyze(g)
    return {
        "schema_version": "1.0",
        "model": {
            "name": "tiny-net",
            "reference": "tiny-net",
            "source": "tests.golden:tiny",
            "kind": "zoo",
            "framework": "pytorch",
            "task": "classification",
            "input_shape": [1, 3, 8, 8],
            "inputs": [{"name": "x", "shape": [1, 3, 8, 8], "dtype": "float32"}],
            "trace_method": "fx",
            "notes": [],
            "reference_figures": {},
        },
        "totals": a.totals,
        "layers": a.layers,
        "measurements": [
            measurement(
                "torch",
                0.5,
                0.8,
                {
                    "status": "ok",
                    "sensor": "replay",
                    "avg_power_mw": 5000.0,
                    "energy_per_inference_mj": 1.25,
                    "energy_per_inference_raw_mj": 2.5,
                },
            ),
            measurement(
                "onnxruntime",
                0.25,
                0.4,
                {"status": "n/a", "reason": "no power sensor on this machine", "energy_per_inference_mj": None},
            ),
            {
                "runtime": "tflite",
                "batch": 1,
                "threads": 1,
                "input_shapes": [[1, 3, 8, 8]],
                "device": "cpu",
                "precision": None,
                "status": "failed",
                "failure": "unsupported",
                "reason": "no route from a PyTorch model to tflite",
            },
        ],
        "environment": {
            "zooprof_version": "0.1.0",
            "python": "3.11.0",
            "command": "zooprof profile tiny-net",
            "created": "2025-01-01T00:00:00+0000",
        },
    }


if __name__ == "__main__":
    (HERE / "tiny_result.json").write_text(json.dumps(tiny_result(), indent=1) + "\n")
    print(f"wrote {HERE / 'tiny_result.json'}")
