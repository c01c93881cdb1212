"""The trtexec stand-in (tests/fixtures/trtexec/fake_trtexec.py) replays its scenarios the way
the real tool behaves: a build writes the engine, a run of a missing engine fails, a failed
build exits non-zero; its output reads back through trtexec_output like the recordings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zooprof.runtimes.trtexec_output import parse_layer_info, parse_log, parse_profile, parse_times

pytestmark = pytest.mark.slow  # every test runs the stand-in as a process

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "trtexec"
FAKE = FIXTURES / "fake_trtexec.py"


def _run(args: list[str], scenario: str, calls: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["FAKE_TRTEXEC_SCENARIO"] = str(FIXTURES / scenario)
    env["FAKE_TRTEXEC_CALLS"] = str(calls)
    return subprocess.run(
        [sys.executable, str(FAKE), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
        check=False,
    )


def test_is_an_executable_script() -> None:
    assert FAKE.read_text().startswith("#!/usr/bin/env python3\n")
    assert os.access(FAKE, os.X_OK)


def test_build_then_run_with_exports(tmp_path: Path) -> None:
    calls, engine = tmp_path / "calls.jsonl", tmp_path / "m.engine"
    build = _run(["--onnx=m.onnx", f"--saveEngine={engine}", "--fp16"], "trt10", calls)
    assert build.returncode == 0
    # trt10/engine_bytes = 13185214, the log's "Created engine with size: 12.5744 MiB"
    assert engine.stat().st_size == 13185214
    assert parse_log(build.stdout)["build_seconds"] == 8.09138
    exports = {name: tmp_path / f"{name}.json" for name in ("times", "profile", "layers")}
    run = _run(
        [
            f"--loadEngine={engine}",
            f"--exportTimes={exports['times']}",
            f"--exportProfile={exports['profile']}",
            f"--exportLayerInfo={exports['layers']}",
        ],
        "trt10",
        calls,
    )
    assert run.returncode == 0
    log = parse_log(run.stdout)
    # Throughput: 15374.3 qps (trt10/run.log), [W] lines kept in order on the merged stream
    assert log["passed"] is True and log["throughput_qps"] == 15374.3 and log["warnings"] == 4
    assert len(parse_times(json.loads(exports["times"].read_text()))["latency_ms"]) == 263
    assert parse_profile(json.loads(exports["profile"].read_text()))["count"] == 1
    assert len(parse_layer_info(json.loads(exports["layers"].read_text()))) == 9
    recorded = [json.loads(line) for line in calls.read_text().splitlines()]
    assert recorded[0] == ["--onnx=m.onnx", f"--saveEngine={engine}", "--fp16"]
    assert recorded[1][0] == f"--loadEngine={engine}" and len(recorded) == 2


def test_trt85_scenario_and_missing_exports_are_not_written(tmp_path: Path) -> None:
    engine = tmp_path / "e.plan"
    assert _run([f"--saveEngine={engine}"], "trt85", tmp_path / "c").returncode == 0
    assert engine.stat().st_size == 4096  # trt85 has no engine_bytes file: the default
    run = _run([f"--loadEngine={engine}"], "trt85", tmp_path / "c")
    # Throughput: 97.8649 qps, [TensorRT v8502]
    log = parse_log(run.stdout)
    assert log["throughput_qps"] == 97.8649 and log["tensorrt_version"] == "8.5.2"


def test_missing_engine_fails_like_trtexec(tmp_path: Path) -> None:
    missing = tmp_path / "absent.engine"
    exported = tmp_path / "t.json"
    run = _run([f"--loadEngine={missing}", f"--exportTimes={exported}"], "trt10", tmp_path / "c")
    assert run.returncode == 1
    log = parse_log(run.stdout)
    assert log["passed"] is False and log["last_error"] == "Engine set up failed"
    assert f"Error opening engine file: {missing}" in run.stdout
    assert log["tensorrt_version"] == "10.16.1"  # the scenario's own version tag
    assert not exported.exists()


def test_failed_build_exits_non_zero_and_writes_no_engine(tmp_path: Path) -> None:
    engine = tmp_path / "q.engine"
    build = _run(["--onnx=q.onnx", f"--saveEngine={engine}", "--int8"], "failed_build", tmp_path / "c")
    assert build.returncode == 1
    assert not engine.exists()
    log = parse_log(build.stdout)
    # [07/15/2022-05:26:40] [E] Engine set up failed / &&&& FAILED ... [TensorRT v8205]
    assert log["passed"] is False and log["last_error"] == "Engine set up failed"


def test_calls_file_is_optional(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_TRTEXEC")}
    engine = tmp_path / "d.engine"
    done = subprocess.run(
        [sys.executable, str(FAKE), f"--saveEngine={engine}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and engine.exists()  # default scenario: trt10 beside the script
    assert "[TensorRT v101601]" in done.stdout
