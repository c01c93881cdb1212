"""On a real CUDA GPU (marked `gpu`; skipped where torch finds none): `zooprof profile --device cuda`
end to end, in a child process that sees the GPU (the hermetic fixture hides it from the rest).
bench/bench_gpu.py checks the figures against a hand-written CUDA-event loop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def gpu_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CUDA_VISIBLE_DEVICES", "ZOOPROF_TRTEXEC")}
    probe = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.cuda.is_available())"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.stdout.strip() != "True":
        pytest.skip("no CUDA GPU here (torch.cuda.is_available() is False)")
    return env


@pytest.mark.gpu
@pytest.mark.slow
def test_profile_on_cuda_eager_graph_and_fp16(tmp_path: Path) -> None:
    env = gpu_env()
    out = tmp_path / "r.json"
    args = ["--device", "cuda", "--batch", "1", "--max-time", "2", "--per-layer", "-o", str(out)]
    for extra in ([], ["--cuda-graphs"], ["--precision", "fp16"]):
        proc = subprocess.run(
            [sys.executable, "-m", "zooprof", "profile", "mobilenet_v2", *args, *extra],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr
        row = json.loads(out.read_text())["measurements"][0]
        assert row["status"] == "ok" and row["device"] == "cuda:0"
        assert row["timing"]["timer"].startswith("cuda events") and row["timing"]["latency_ms"]["median"] > 0
        assert row["timing"]["wall_latency_ms"]["median"] >= row["timing"]["latency_ms"]["median"] * 0.9
        assert row["timing"]["harness_overhead"]["per_iteration_us"] < 200
        device = row["memory"]["device"]
        weight_bytes = 3_504_872 * (2 if extra == ["--precision", "fp16"] else 4)
        assert device["peak_allocated_bytes"] > weight_bytes  # the weights stay allocated: at least those
        assert row["session"]["mode"] == ("cuda graph replay" if extra == ["--cuda-graphs"] else "eager")
        if extra == ["--precision", "fp16"]:
            assert row["precision"] == "fp16"
        assert row["per_layer"]["layers"], row["per_layer"]
