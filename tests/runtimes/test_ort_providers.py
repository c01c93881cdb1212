"""ONNX Runtime's per-layer view names the provider that ran each node, from its own profiler."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.runtimes.onnx_models import tiny_onnx
from zooprof.runtimes.onnxruntime_rt import summarize_ort_profile

ort = pytest.importorskip("onnxruntime")


def real_events(tmp_path: Path, runs: int = 3) -> list[dict]:
    import numpy as np

    so = ort.SessionOptions()
    so.enable_profiling = True
    so.profile_file_prefix = str(tmp_path / "ort")
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(str(tiny_onnx(tmp_path / "m.onnx")), so, providers=["CPUExecutionProvider"])
    for _ in range(runs):
        sess.run(None, {"x": np.ones((1, 3, 8, 8), np.float32)})
    return json.loads(Path(sess.end_profiling()).read_text())


def test_each_node_has_the_provider_that_ran_it(tmp_path: Path) -> None:
    record = summarize_ort_profile(real_events(tmp_path), 3, {"/conv/Conv", "/act/Relu"})
    names = {layer["name"]: layer for layer in record["layers"]}
    assert set(names) == {"/conv/Conv", "/act/Relu"}
    assert {layer["provider"] for layer in record["layers"]} == {"CPUExecutionProvider"}
    assert record["nodes_per_provider"] == {"CPUExecutionProvider": 2}
    assert not any(layer["fused"] for layer in record["layers"])


def test_mixed_providers_are_counted(tmp_path: Path) -> None:
    events = real_events(tmp_path, runs=1)
    for e in events:  # as a CUDA session records them: the Conv on CUDA, the rest on the CPU
        if e.get("cat") == "Node" and e.get("name", "").startswith("/conv/Conv"):
            e["args"]["provider"] = "CUDAExecutionProvider"
    record = summarize_ort_profile(events, 1, set())
    by_name = {layer["name"]: layer["provider"] for layer in record["layers"]}
    assert by_name == {"/conv/Conv": "CUDAExecutionProvider", "/act/Relu": "CPUExecutionProvider"}
    assert record["nodes_per_provider"] == {"CUDAExecutionProvider": 1, "CPUExecutionProvider": 1}
