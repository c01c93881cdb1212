"""`zooprof sysinfo`: board record and every sensor, found or not with its reason; exit code 0."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.helpers import heavy_imports, run
from tests.sensors import fake_boards as fb
from zooprof.sensors import POWER_SOURCES

SENSORS = [*POWER_SOURCES, "host"]


@pytest.fixture
def bare_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine with no power sensor whatever this test host has: an empty sysfs root, no board
    tools on PATH, no jetson-stats and no NVML."""
    monkeypatch.setenv("ZOOPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    monkeypatch.setitem(sys.modules, "jtop", None)
    monkeypatch.setitem(sys.modules, "pynvml", None)
    return tmp_path


def test_every_power_sensor_not_found_with_its_reason(bare_machine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "sysinfo")
    assert code == 0, err
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and line.split()}
    expected = {
        "jetson-sysfs": "no INA3221 under /sys/bus/i2c/drivers (not a Jetson)",
        "jtop": "jetson-stats not installed (pip install zooprof[jetson])",
        "tegrastats": "tegrastats not found",
        "nvml": "nvidia-ml-py not installed (pip install zooprof[nvidia])",
        "rapl": "no /sys/class/powercap/intel-rapl:*",
    }
    for name, reason in expected.items():
        assert "not found" in lines[name] and reason in lines[name], lines[name]
    assert "found" in lines["host"] and "not found" not in lines["host"]
    assert "no power sensor found here" in out
    assert "n/a (nvpmodel not found)" in out and "n/a (jetson_clocks not found)" in out


def test_json_parses(bare_machine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sysinfo", "--json")
    assert code == 0
    data = json.loads(out)
    assert [s["sensor"] for s in data["sensors"]] == SENSORS
    assert all(s["reason"] for s in data["sensors"])
    assert [s["sensor"] for s in data["sensors"] if s["found"]] == ["host"]
    assert data["power_sensor"] is None
    assert data["board"]["jetson"] is False and data["board"]["nvpmodel"] == "n/a (nvpmodel not found)"


def test_on_this_machine_every_sensor_is_listed_with_a_reason(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sysinfo", "--json")
    assert code == 0
    probes = json.loads(out)["sensors"]
    assert [p["sensor"] for p in probes] == SENSORS and all(p["reason"] for p in probes)


def test_a_fake_orin_nx_is_found(bare_machine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fb.orin_nx(bare_machine)
    fb.orin_nano_board(bare_machine)
    code, out, _ = run(capsys, "sysinfo")
    assert code == 0
    assert "NVIDIA Jetson Orin Nano Developer Kit" in out and "6.2" in out and "15W (mode 0)" in out
    sysfs = next(line for line in out.splitlines() if line.strip().startswith("jetson-sysfs"))
    assert "found" in sysfs and "not found" not in sysfs and "VDD_IN" in sysfs
    assert "uses jetson-sysfs" in out


@pytest.mark.slow
def test_sysinfo_imports_no_framework() -> None:
    assert heavy_imports("sysinfo") == []
