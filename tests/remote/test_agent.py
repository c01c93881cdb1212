"""The board agent on its own (no ssh): this machine's Python runs it from a bundle folder laid out
as on a board, as `python3 agent.py run|check` with a job on stdin."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.runtimes.onnx_models import tiny_onnx
from tests.sensors import fake_boards as fb
from zooprof.remote import BOARD_MODULES
from zooprof.remote.board import agent_bundle, agent_status

pytestmark = pytest.mark.slow  # every test starts the agent as a process


def unpack(folder: Path) -> Path:
    data, _ = agent_bundle()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(folder, filter="data")
    return folder


def agent(folder: Path, command: str, job: object) -> tuple[int, list[dict]]:
    text = job if isinstance(job, str) else json.dumps(job)
    proc = subprocess.run(
        [sys.executable, "agent.py", command], input=text, capture_output=True, text=True, cwd=folder, timeout=120
    )
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()]


def onnx_job(tmp_path: Path, root: Path, hz: float, idle_s: float, min_time: float) -> dict:
    """A tiny ONNX model on onnxruntime with power sampling on the fake board at `root`."""
    return {
        "runtime": "onnxruntime",
        "model": str(tiny_onnx(tmp_path / "m.onnx")),
        "input_shapes": [[1, 3, 8, 8]],
        "max_time": 0.5,
        "min_time": min_time,
        "power": {"sample_hz": hz, "idle_s": idle_s},
        "sysfs_root": str(root),
    }


def test_the_bundle_holds_the_agent_and_its_modules_only(tmp_path: Path) -> None:
    folder = unpack(tmp_path)
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.py"))
    shared = sorted(m for m in BOARD_MODULES if m != "zooprof/remote/agent.py")
    inits = ["zooprof/__init__.py", "zooprof/measure/__init__.py", "zooprof/sensors/__init__.py"]
    assert files == sorted(["agent.py", *shared, *inits])
    assert all((folder / i).read_text() == "" for i in inits)  # not zooprof's own package code
    assert agent_bundle()[1] == agent_bundle()[1]  # deterministic: the same sources, the same hash


def test_run_onnxruntime_with_power_on_a_fake_xavier(tmp_path: Path) -> None:
    folder = unpack(tmp_path / "agent")
    root = tmp_path / "root"
    fb.xavier_nx(root)
    code, lines = agent(folder, "run", onnx_job(tmp_path, root, hz=50, idle_s=0.2, min_time=0.3))
    assert code == 0
    result = lines[-1]["result"]
    assert result["status"] == "ok" and result["timing"]["latency_ms"]["n"] >= 10
    assert result["trace"]["sensor"] == "jetson-sysfs" and result["trace"]["total"] == "VDD_IN"
    assert result["idle_trace"]["t"] and result["agent_seconds"] > 0
    assert any("progress" in line for line in lines[:-1])  # progress streams before the result


def test_check_reports_what_is_missing(tmp_path: Path) -> None:
    job = {"sysfs_root": str(tmp_path / "empty"), "trtexec": "/no/trtexec"}
    code, lines = agent(unpack(tmp_path / "agent"), "check", job)
    assert code == 0
    found = lines[-1]["result"]
    assert found["python"] == ".".join(map(str, sys.version_info[:3]))
    assert found["runtimes"]["onnxruntime"]["version"] and "missing" in found["runtimes"]["trtexec"]
    assert found["rails"] == [] and found["board"]["jetson"] is False


@pytest.mark.parametrize(
    ("command", "job", "code", "reason"),
    [
        ("run", "{not json", 2, "the job is not JSON"),
        ("dance", {}, 2, "unknown agent command 'dance'"),
        ("run", {"runtime": "torch", "model": "m.pt", "input_shapes": [[1]]}, 1, "does not run on a board yet"),
        (
            "run",
            {"runtime": "tensorrt", "model": "m.onnx", "model_hash": "x", "trtexec": "/no/trtexec"},
            1,
            "trtexec not found on the board (/no/trtexec)",
        ),
    ],
)
def test_bad_jobs_are_a_result_with_the_reason(
    tmp_path: Path, command: str, job: object, code: int, reason: str
) -> None:
    got, lines = agent(unpack(tmp_path / "agent"), command, job)
    assert got == code and lines[-1]["result"]["status"] == "failed" and reason in lines[-1]["result"]["reason"]


def test_agent_status_marker() -> None:
    assert agent_status("noise\nzooprof-agent-exit 137\n") == 137
    assert agent_status("Connection to 127.0.0.1 closed by remote host.") is None


def test_a_board_without_rails_is_sampled_through_tegrastats(tmp_path: Path) -> None:
    """JetPack boards where the INA3221 is not readable: the agent streams tegrastats' lines with its
    clock; the host parses them into the same Trace a local tegrastats sensor gives."""
    from tests.sensors.fake_boards import fake_tegrastats
    from tests.sensors.tegrastats_lines import XNX_JP5
    from zooprof.remote.run import board_trace

    folder = unpack(tmp_path / "agent")
    root = tmp_path / "root"
    fake_tegrastats(root / "usr/bin", XNX_JP5)
    code, lines = agent(folder, "run", onnx_job(tmp_path, root, hz=20, idle_s=0, min_time=1.0))
    assert code == 0
    raw = lines[-1]["result"]["trace"]
    assert raw["sensor"] == "tegrastats" and len(raw["tegrastats_lines"]) >= 5
    trace = board_trace(raw)
    # XNX_JP5: "VDD_IN 2763mW/2846mW" - the instantaneous value
    assert trace.total == "VDD_IN" and set(trace.series["VDD_IN"]) == {2763.0}
