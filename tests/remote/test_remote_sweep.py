"""`zooprof sweep --on HOST` through a real OpenSSH server on 127.0.0.1 (tests/remote/sshd.py): the
whole sweep (the machine record, every cell, the power-mode check) over one ssh connection, counted
by the server's own log, and that connection closed when the sweep ends: normally, on an error, on
Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.remote.sshd import LocalSshd, board_env, missing, open_connections, start_board
from tests.runtimes.onnx_models import tiny_onnx
from zooprof import results
from zooprof.sweep.matrix import load_assignment, machine_fingerprint
from zooprof.sweep.run import SweepOptions, sweep

REQUIRED = os.environ.get("ZOOPROF_REQUIRE_SSH") == "1"  # as in test_remote.py: `make test` has OpenSSH
pytestmark = [pytest.mark.slow, pytest.mark.skipif(missing() is not None and not REQUIRED, reason=str(missing()))]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSshd]:
    sshd = start_board(tmp_path)
    for key, value in board_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    yield sshd
    sshd.stop()


def lab(tmp_path: Path, repeats: int, max_time: float = 0.2, power_modes: bool = False) -> Path:
    """An assignment of `repeats` cells: the tiny ONNX model (batch 1 only) on onnxruntime."""
    model = tiny_onnx(tmp_path / "tiny.onnx")
    path = tmp_path / "lab.toml"
    modes = 'power_modes = ["MAXN"]\n' if power_modes else ""
    path.write_text(
        f'[assignment]\nname = "remote lab"\n[matrix]\nmodels = ["{model}"]\nruntimes = ["onnxruntime"]\n'
        f"repeats = {repeats}\n{modes}[measure]\nmax_time = {max_time}\n"
    )
    return path


def test_a_sweep_on_a_board_makes_one_connection(board: LocalSshd, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    options = SweepOptions(db=db, on="zp-board", ssh_config=str(board.config), settle_s=0)
    assignment = load_assignment(lab(tmp_path, 4, power_modes=True))
    assert board.logins() == 0
    report = sweep(assignment, options)

    assert report.ok == 4 and report.failed == 0 and not report.interrupted
    assert board.logins() == 1  # the machine record, nvpmodel -q and 4 cells: one ControlMaster
    assert open_connections(board) == 0  # and it was closed at the end
    with results.open(db) as store:
        rows = store.query()
        stored = store.results()
    assert len(rows) == 4 and all(r["status"] == "ok" for r in rows)
    record = stored[0].environment["board"]
    assert record["model"] == "NVIDIA Jetson Orin Nano Developer Kit"
    assert {r["machine"] for r in rows} == {machine_fingerprint(stored[0].environment)}
    # the power-mode check went over the same connection: the board (this machine) has no nvpmodel
    row = stored[0].measurements[0]
    assert row["power_mode_applied"] is False and "nvpmodel -q failed" in row["power_mode_note"]
    # each row says what this sweep copied for it: the agent (for the machine record), and its model
    # file, copied by the first cell only
    copied = [r.measurements[0]["remote"]["copied"] for r in stored]
    (model_key,) = [key for key in copied[0] if key != "agent"]
    assert copied == [{"agent": True, model_key: True}] + [{"agent": True, model_key: False}] * 3

    # a second sweep of the same board resumes (the machine record over a new connection): one more
    again = sweep(assignment, options)
    assert again.skipped == 4 and board.logins() == 2 and open_connections(board) == 0


def test_an_error_in_the_middle_of_a_sweep_closes_the_connection(board: LocalSshd, tmp_path: Path) -> None:
    def progress(info: dict) -> None:
        if info.get("phase") == "done":
            raise RuntimeError("the sweep's caller failed")

    options = SweepOptions(db=tmp_path / "runs.db", on="zp-board", ssh_config=str(board.config))
    with pytest.raises(RuntimeError, match="the sweep's caller failed"):
        sweep(load_assignment(lab(tmp_path, 3)), options, progress)
    assert board.logins() == 1 and open_connections(board) == 0


def test_ctrl_c_in_a_sweep_on_a_board_closes_the_connection(board: LocalSshd, tmp_path: Path) -> None:
    path = lab(tmp_path, 6, max_time=1.0)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "zooprof", "sweep", str(path), "--db", str(tmp_path / "runs.db")]
    proc = subprocess.Popen(
        [*cmd, "--on", "zp-board", "--ssh-config", str(board.config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    seen = ""
    while "[2/6]" not in seen:
        line = proc.stderr.readline()  # type: ignore[union-attr]
        assert line or proc.poll() is None, seen
        seen += line
    proc.send_signal(signal.SIGINT)  # the third cell is being measured on the board
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted: run the same command again" in out
    assert board.logins() == 1 and open_connections(board) == 0


def test_the_cooldown_of_a_sweep_on_a_board_reads_the_boards_thermal_zones(board: LocalSshd, tmp_path: Path) -> None:
    """The sweep waits on the board's temperature (its agent's `state`, over the sweep's connection),
    not on this machine's (an empty tree here)."""
    from tests.sensors.fake_boards import thermal_and_cpufreq

    thermal_and_cpufreq(tmp_path / "board-root")  # cpu-thermal 45.5 °C, gpu-thermal 38 °C
    path = lab(tmp_path, 2)
    path.write_text(path.read_text() + "[cooldown]\ntemperature_c = 60\n")
    notes: list[str] = []
    options = SweepOptions(db=tmp_path / "runs.db", on="zp-board", ssh_config=str(board.config))
    report = sweep(
        load_assignment(path), options, lambda info: notes.append(info["phase"]) if info.get("note") else None
    )
    assert report.ok == 2
    assert notes == ["cooldown: hottest zone 45.5 °C after 0 s"]  # between the two cells only
    assert board.logins() == 1
