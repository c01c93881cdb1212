"""`zooprof profile --power` end to end: n/a with reasons on this machine, and the energy figures
of a replayed constant trace (known answer: power x window / iterations)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run
from zooprof.sensors.base import POWER, Channel, Trace

pytest.importorskip("torch")


def profile_replaying(capsys: pytest.CaptureFixture[str], trace: Path, out_json: Path, max_time: str) -> dict:
    """`zooprof profile mnist-mlp --sensor replay:TRACE --idle 0`: its one measurement row."""
    code, out, err = run(
        capsys, "profile", "mnist-mlp", "--sensor", f"replay:{trace}", "--idle", "0", "--max-time", max_time,
        "-o", str(out_json),
    )  # fmt: skip
    assert code == 0, err
    row = json.loads(out_json.read_text())["measurements"][0]
    row["_printed"] = out
    return row


def constant_trace(path: Path, sensor: str, channel: str, mw: float, total_source: str) -> Path:
    """A recorded trace of `mw` on one channel, 20 s at 1 kHz, as `--sensor replay:PATH` reads it."""
    trace = Trace(sensor, {channel: Channel(channel, "mW", POWER)}, total=channel, total_source=total_source)
    for i in range(20_001):
        trace.append(i / 1000, {channel: mw})
    path.write_text(json.dumps(trace.to_dict()))
    return path


@pytest.mark.slow
def test_power_on_a_machine_without_sensors_is_na_and_exit_0(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOOPROF_SYSFS_ROOT", str(tmp_path / "empty-root"))
    out_json = tmp_path / "r.json"
    code, out, err = run(capsys, "profile", "mnist-mlp", "--power", "--max-time", "0.3", "-o", str(out_json))
    assert code == 0, err
    row = json.loads(out_json.read_text())["measurements"][0]
    assert row["status"] == "ok"
    power = row["power"]
    assert power["status"] == "n/a" and power["energy_per_inference_mj"] is None
    assert "no power sensor on this machine" in power["reason"] and "jetson-sysfs" in power["reason"]
    assert "Power, torch batch 1: n/a (no power sensor" in out
    assert "power: n/a" in err


@pytest.mark.slow
def test_replayed_constant_trace_gives_power_times_window_over_iterations(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = constant_trace(tmp_path / "trace.json", "rig", "VDD_IN", 5000.0, "VDD_IN")
    row = profile_replaying(capsys, path, tmp_path / "r.json", "3")
    p, timing = row["power"], row["timing"]
    stamps = timing["timestamps_s"]
    window = stamps[-1][1] - stamps[0][0]
    iterations = len(stamps) * timing["calls_per_sample"]
    assert window >= 2.0  # --power holds the timed window open for enough samples
    assert p["status"] == "ok" and p["avg_power_mw"] == pytest.approx(5000.0)
    assert p["window_s"] == pytest.approx(window, abs=1e-6) and p["iterations"] == iterations
    assert p["energy_per_inference_raw_mj"] == pytest.approx(5000.0 * window / iterations, rel=1e-5)
    assert p["energy_per_inference_mj"] is None and "--idle 0" in p["energy_note"]


def test_a_named_sensor_that_is_absent_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZOOPROF_SYSFS_ROOT", str(tmp_path / "empty-root"))
    code, out, err = run(capsys, "profile", "mnist-mlp", "--sensor", "jetson-sysfs")
    assert code == 2 and "sensor jetson-sysfs not available" in err and "zooprof sysinfo" in err
    code, out, err = run(capsys, "profile", "mnist-mlp", "--sensor", "thermometer")
    assert code == 2 and "unknown sensor 'thermometer'" in err
    code, out, err = run(capsys, "profile", "mnist-mlp", "--power", "--idle", "soon")
    assert code == 2 and "malformed duration" in err


@pytest.mark.slow
def test_a_cpu_run_under_a_gpu_only_sensor_gets_no_energy(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The issue's case: a model measured on the CPU while NVML reads the GPU's rail. The GPU's
    power is not the model's: energy per inference is n/a with the reason, in the row and printed."""
    path = constant_trace(tmp_path / "nvml.json", "nvml", "gpu_power", 75_000.0, "NVML")
    row = profile_replaying(capsys, path, tmp_path / "r.json", "1")
    p = row["power"]
    assert row["device"] == "cpu" and p["device"] == "cpu" and p["covers_device"] is False
    assert p["status"] == "n/a" and p["energy_per_inference_mj"] is None and p["energy_per_inference_raw_mj"] is None
    assert p["sensor_avg_power_mw"] == pytest.approx(75_000.0)
    assert "GPU 0's board power" in p["reason"] and "ran on cpu" in p["reason"]
    assert "Power, torch batch 1: n/a (the replay:nvml.json sensor measures GPU 0's board power" in row["_printed"]
