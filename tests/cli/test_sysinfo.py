"""`zooprof sysinfo`: board record, accelerator and every sensor, found or not with its reason; exit code 0.

The accelerator fakes (pynvml with an H200 and an A10G without clocks; CUDA, cuDNN and TensorRT trees)
are those of tests/measure/test_accelerator.py, where their sources are recorded."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import HEAVY, heavy_imports, run
from tests.measure.gpu_fakes import fake_pynvml, full_tree, orin_devfreq
from tests.sensors import fake_boards as fb
from zooprof.measure import accelerator
from zooprof.sensors import POWER_SOURCES

SENSORS = [*POWER_SOURCES, "host"]


@pytest.fixture
def bare_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine with no power sensor and no accelerator whatever this test host has: an empty sysfs
    root, no board tools or trtexec on PATH, no jetson-stats, no NVML, no cuDNN or TensorRT wheel."""
    monkeypatch.setenv("ZOOPROF_SYSFS_ROOT", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    monkeypatch.delenv("ZOOPROF_TRTEXEC", raising=False)
    monkeypatch.setitem(sys.modules, "jtop", None)
    monkeypatch.setitem(sys.modules, "pynvml", None)
    monkeypatch.setattr(accelerator, "distribution_version", lambda name: None)
    return tmp_path


def _rows(out: str) -> dict[str, str]:
    """The accelerator section: label -> text."""
    section = out.split("\naccelerator\n")[1].split("\nsensors")[0]
    pairs = (re.match(r"^  (\S.*?)\s{2,}(.*)$", line) for line in section.splitlines())
    return {m.group(1): m.group(2) for m in pairs if m}


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


def test_the_empty_machine_has_no_accelerator_and_says_why(
    bare_machine: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "sysinfo")
    assert code == 0
    rows = _rows(out)
    assert list(rows) == ["GPUs", "CUDA toolkit", "cuDNN", "TensorRT", "trtexec", "Jetson GPU"]
    assert rows["GPUs"] == "n/a (nvidia-ml-py not installed (pip install zooprof[nvidia]))"
    assert rows["CUDA toolkit"] == "n/a (no /usr/local/cuda: CUDA toolkit not installed)"
    assert rows["cuDNN"].startswith("n/a (no cudnn_version.h in /usr/include, ")
    assert rows["TensorRT"].startswith("n/a (no NvInferVersion.h in /usr/include, ")
    assert rows["trtexec"] == (
        "n/a (trtexec not found (looked on PATH and in /usr/src/tensorrt/bin/trtexec, "
        "/usr/local/tensorrt/bin/trtexec); it ships with JetPack and TensorRT: give its path with --trtexec)"
    )
    assert rows["Jetson GPU"] == "n/a (no GPU node in /sys/class/devfreq: not a Jetson)"


def test_a_gpu_host(bare_machine: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    full_tree(bare_machine)
    fake_pynvml(monkeypatch)
    code, out, _ = run(capsys, "sysinfo")
    assert code == 0
    rows = _rows(out)
    # 143771 MiB / 1024 = 140.4 GiB; 700000 mW = 700 W (the default is the same, so not repeated)
    assert rows["GPU 0"] == (
        "NVIDIA H200 (compute 9.0, 140.4 GiB), driver 570.86.15, CUDA 12.8; "
        "SM 1980/1980 MHz, memory 3201/3201 MHz; power limit 700 W"
    )
    # clocks NotSupported; 23028 MiB / 1024 = 22.5 GiB; limit 150000 mW below the default 300000 mW
    assert rows["GPU 1"] == (
        "NVIDIA A10G (compute 8.6, 22.5 GiB), driver 570.86.15, CUDA 12.8; "
        "SM n/a, memory n/a; power limit 150 W (default 300 W)"
    )
    assert rows["CUDA toolkit"] == "12.8.2 (/usr/local/cuda/version.json)"
    assert rows["cuDNN"] == "9.6.0 (/usr/include/x86_64-linux-gnu/cudnn_version.h)"
    assert rows["TensorRT"] == "10.14.1 (/usr/include/x86_64-linux-gnu/NvInferVersion.h)"
    assert rows["trtexec"] == "/usr/src/tensorrt/bin/trtexec"
    assert "GPUs" not in rows


def test_a_gpu_host_as_json(
    bare_machine: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    full_tree(bare_machine)
    fake_pynvml(monkeypatch)
    code, out, _ = run(capsys, "sysinfo", "--json")
    assert code == 0
    data = json.loads(out)
    assert {"root", "board", "accelerator", "sensors", "power_sensor"} <= set(data)
    acc = data["accelerator"]
    assert acc["driver_version"] == "570.86.15" and acc["cuda_driver_version"] == "12.8"
    h200, a10g = acc["gpus"]
    assert h200["compute_capability"] == "9.0" and h200["memory_total_bytes"] == 143771 * 2**20
    assert (h200["sm_clock_mhz"], h200["sm_clock_max_mhz"], h200["memory_clock_mhz"]) == (1980, 1980, 3201)
    assert (h200["power_limit_w"], h200["power_limit_default_w"]) == (700.0, 700.0)
    assert a10g["sm_clock_mhz"] is None and a10g["memory_clock_max_mhz"] is None
    assert acc["cuda_toolkit"]["version"] == "12.8.2" and acc["cudnn"]["version"] == "9.6.0"
    assert acc["tensorrt"]["version"] == "10.14.1" and acc["trtexec"]["path"] == "/usr/src/tensorrt/bin/trtexec"
    assert acc["jetson_gpu"]["node"] is None and acc["jetson_gpu"]["reason"]


def test_the_empty_machine_as_json(bare_machine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "sysinfo", "--json")
    acc = json.loads(out)["accelerator"]
    assert acc["gpus"] == [] and acc["gpus_reason"]
    assert all(acc[k]["version"] is None and acc[k]["reason"] for k in ("cuda_toolkit", "cudnn", "tensorrt"))
    assert acc["trtexec"]["path"] is None and acc["trtexec"]["reason"]


def test_a_jetson_gpu_clock(bare_machine: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fb.orin_nano_board(bare_machine)
    (bare_machine / "sys/class/devfreq/17000000.gpu/max_freq").unlink()  # the real Orin node name instead
    (bare_machine / "sys/class/devfreq/17000000.gpu").rmdir()
    orin_devfreq(bare_machine)
    code, out, _ = run(capsys, "sysinfo")
    assert code == 0
    # 306000000 Hz = 306 MHz, 1300500000 Hz = 1300.5 MHz
    assert _rows(out)["Jetson GPU"] == "17000000.ga10b: 306 MHz (min 306, max 1300.5), governor nvhost_podgov"


@pytest.mark.slow
def test_sysinfo_path_imports_no_framework_in_process() -> None:
    """The modules sysinfo imports, and reading the accelerator, load no framework (fresh interpreter)."""
    code = (
        "import sys; from pathlib import Path; import zooprof.cli.sysinfo_cmd, zooprof.measure.environment as e; "
        "from zooprof.measure.accelerator import accelerator; accelerator(Path('/')); e.environment(); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""


@pytest.mark.slow
def test_sysinfo_imports_no_framework() -> None:
    assert heavy_imports("sysinfo") == []
    assert heavy_imports("sysinfo", "--json") == []
