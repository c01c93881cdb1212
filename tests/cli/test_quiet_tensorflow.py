"""Framework start-up lines (absl, "Could not find cuda drivers", the oneDNN notice, TFLite's
XNNPACK line) do not reach zooprof's output; `--debug` (ZOOPROF_DEBUG=1 for the API) keeps them."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.quiet_jobs import NOISE

pytestmark = pytest.mark.slow  # every test spawns processes

ROOT = Path(__file__).resolve().parents[2]
NOISE_MARKS = (
    "absl::InitializeLog",
    "Could not find cuda drivers",
    "oneDNN custom operations",
    "XNNPACK delegate",
    "cudart_stub",
    "I0000 ",
    "W0000 ",
    "E0000 ",
)

WORKER = """
import sys
from tests.cli import quiet_jobs
from zooprof.runtimes.worker import run_isolated
out = run_isolated(quiet_jobs.noisy, (7,), timeout=120)
print(out.ok, out.result)
"""


def run_worker(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("ZOOPROF_DEBUG", "TF_CPP_MIN_LOG_LEVEL")}
    return subprocess.run(
        [sys.executable, "-c", WORKER, *argv],
        cwd=ROOT,
        env={**environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_worker_stderr_is_silenced() -> None:
    out = run_worker()
    assert out.returncode == 0, out.stderr
    assert "True {'value': 7, 'tf_level': '3'}" in out.stdout
    assert NOISE not in out.stderr + out.stdout


@pytest.mark.parametrize("how", ["--debug", "ZOOPROF_DEBUG"])
def test_debug_keeps_framework_logs(how: str) -> None:
    out = run_worker("--debug") if how == "--debug" else run_worker(env={"ZOOPROF_DEBUG": "1"})
    assert out.returncode == 0, out.stderr
    assert NOISE in out.stderr
    assert "'tf_level': None" in out.stdout  # TensorFlow's own level left as the user has it


@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="needs TensorFlow")
def test_profile_tensorflow_and_tflite_print_no_framework_line(tmp_path: Path) -> None:
    """Acceptance of issue 16: no absl/TensorFlow line in `zooprof profile`'s output."""
    env = {k: v for k, v in os.environ.items() if k not in ("ZOOPROF_DEBUG", "TF_CPP_MIN_LOG_LEVEL")}
    env.update(ZOOPROF_CACHE_DIR=str(tmp_path / "cache"), HOME=str(tmp_path))
    args = ["profile", "tm-image-v2", "--runtime", "tensorflow,tflite", "--max-time", "1"]
    out = subprocess.run(
        [sys.executable, "-m", "zooprof", *args, "-o", str(tmp_path / "r.json")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout + out.stderr
    leaked = [line for line in text.splitlines() if any(mark in line for mark in NOISE_MARKS)]
    assert not leaked, leaked
    assert "tensorflow" in out.stdout and "tflite" in out.stdout
