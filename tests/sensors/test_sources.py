"""Sensor sources with no hardware: fake sysfs trees (Nano, Xavier NX, Orin NX, AGX Orin), RAPL,
thermal/cpufreq, a fake tegrastats on PATH, fake jtop and pynvml modules, the board record.

Expected figures are hand calculations: hwmon power = bus mV x mA / 1000 (e.g. 5072 mV x 800 mA
= 4057.6 mW); RAPL counters µJ / 1000 = mJ.
"""

from __future__ import annotations

import os
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest

from tests.sensors import fake_boards as fb
from tests.sensors.fake_boards import fake_tegrastats
from tests.sensors.tegrastats_lines import AGX_ORIN, XNX_JP5
from zooprof.measure import environment as machine
from zooprof.sensors import POWER_SOURCES, create
from zooprof.sensors.base import ENERGY, POWER, TEMPERATURE
from zooprof.sensors.energy import power_series
from zooprof.sensors.host import HostSensor
from zooprof.sensors.jetson import NOT_ACTIVE, JetsonSysfsSensor, JtopSensor
from zooprof.sensors.jetson_board import jetpack_for, parse_jetson_clocks, parse_l4t, parse_nvpmodel
from zooprof.sensors.nvml import NvmlSensor
from zooprof.sensors.rapl import NO_RAPL, RaplSensor
from zooprof.sensors.tegrastats import SUMMED
from zooprof.sensors.tegrastats_live import TegrastatsSensor

# ---------------------------------------------------------------- Jetson sysfs


def test_nano_iio_layout_reads_power_files(tmp_path: Path) -> None:
    fb.nano_iio(tmp_path)
    s = JetsonSysfsSensor(tmp_path)
    p = s.probe()
    assert p.available and "iio (JetPack 4)" in p.reason and "6-0040" in p.reason
    assert list(s.channels()) == ["POM_5V_IN", "POM_5V_GPU", "POM_5V_CPU"]
    assert s.total() == ("POM_5V_IN", "POM_5V_IN")
    # the power files (mW), not voltage x current (5000 mV x 1 mA = 5 mW)
    assert s.read() == {"POM_5V_IN": 2746.0, "POM_5V_GPU": 159.0, "POM_5V_CPU": 796.0}
    s.close()


def test_xavier_nx_hwmon_layout_skips_the_sum_of_shunts(tmp_path: Path) -> None:
    fb.xavier_nx(tmp_path)
    s = JetsonSysfsSensor(tmp_path)
    assert s.probe().available
    assert list(s.channels()) == ["VDD_IN", "VDD_CPU_GPU_CV", "VDD_SOC"]  # in7 "sum of shunt voltages" left out
    assert s.total() == ("VDD_IN", "VDD_IN")
    values = s.read()
    assert values == pytest.approx({"VDD_IN": 4057.6, "VDD_CPU_GPU_CV": 739.344, "VDD_SOC": 1352.088})
    s.close()


def test_orin_nx_hwmon_index_is_globbed(tmp_path: Path) -> None:
    folder = fb.orin_nx(tmp_path)
    assert folder.name == "hwmon3"
    (folder / "update_interval").write_text("140\n")
    s = JetsonSysfsSensor(tmp_path)
    p = s.probe()
    assert p.available and "hwmon3" in p.reason and "total VDD_IN" in p.reason
    assert "chip updates every 140 ms" in p.reason
    assert s.read() == pytest.approx({"VDD_IN": 12479.744, "VDD_CPU_GPU_CV": 4660.88, "VDD_SOC": 2815.552})
    s.close()


def test_agx_orin_has_no_total_rail_so_rails_are_summed_and_flagged(tmp_path: Path) -> None:
    fb.agx_orin(tmp_path)
    s = JetsonSysfsSensor(tmp_path)
    p = s.probe()
    assert p.available and SUMMED in p.reason
    names = list(s.channels())
    assert "NC" not in names and "sum of shunt voltages" not in names
    assert names == ["VDD_GPU_SOC", "VDD_CPU_CV", "VIN_SYS_5V0", "VDDQ_VDD2_1V8AO", "total"]
    assert s.total() == ("total", SUMMED)
    v = s.read()
    assert v["VIN_SYS_5V0"] == pytest.approx(4445.728)
    assert v["total"] == pytest.approx(4945.344 + 996.736 + 4445.728 + 498.4)  # 10886.208 mW
    s.close()


def test_sum_channel_is_skipped_by_number_even_without_its_label(tmp_path: Path) -> None:
    d = fb.hwmon(tmp_path, "1-0040", 0, [("VDD_IN", 5000, 1000)], with_sum=False)
    fb.write(tmp_path, f"{d.relative_to(tmp_path)}/in7_label", "VDD_SUM")
    fb.write(tmp_path, f"{d.relative_to(tmp_path)}/in7_input", 5000)
    fb.write(tmp_path, f"{d.relative_to(tmp_path)}/curr7_input", 5)
    s = JetsonSysfsSensor(tmp_path)
    assert list(s.channels()) == ["VDD_IN"]


def test_not_a_jetson(tmp_path: Path) -> None:
    p = JetsonSysfsSensor(tmp_path).probe()
    assert not p.available and p.reason == "no INA3221 under /sys/bus/i2c/drivers (not a Jetson)"


def test_unreadable_rail_is_reported(tmp_path: Path) -> None:
    folder = fb.orin_nx(tmp_path)
    (folder / "curr2_input").write_text("garbage\n")
    p = JetsonSysfsSensor(tmp_path).probe()
    assert not p.available and "VDD_CPU_GPU_CV" in p.reason and "curr2_input" in p.reason


def overwrite(path: Path, text: str) -> None:
    """Change a value in place, in one write (write_text truncates first, and a sample read in
    between would see an empty file, which real sysfs never shows)."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.pwrite(fd, text.encode(), 0)
    finally:
        os.close(fd)


@pytest.mark.slow
def test_polling_over_a_fake_tree_gives_the_expected_trace(tmp_path: Path) -> None:
    folder = fb.orin_nx(tmp_path)
    s = JetsonSysfsSensor(tmp_path)
    assert s.probe().available
    s.start(100.0)
    time.sleep(0.25)
    overwrite(folder / "curr1_input", "1312\n")  # load: VDD_IN doubles to 24959.488 mW
    time.sleep(0.25)
    trace = s.stop()
    assert trace.sensor == "jetson-sysfs" and trace.total == "VDD_IN" and trace.total_source == "VDD_IN"
    assert trace.requested_hz == 100.0 and trace.errors == 0
    assert trace.samples >= 10  # 0.5 s at 100 Hz, with room for a slow shared machine
    assert all(b > a for a, b in zip(trace.t, trace.t[1:], strict=False))
    vdd_in = trace.series["VDD_IN"]
    assert vdd_in[0] == pytest.approx(12479.744) and vdd_in[-1] == pytest.approx(19024 * 1312 / 1000)
    assert len(set(vdd_in)) == 2  # before and after the change, nothing else
    assert trace.series["VDD_SOC"] == pytest.approx([2815.552] * trace.samples)
    assert trace.channels["VDD_IN"].kind == POWER and trace.channels["VDD_IN"].unit == "mW"
    assert s._fds == []  # files closed at stop


@pytest.mark.slow
def test_polling_counts_failed_reads(tmp_path: Path) -> None:
    folder = fb.nano_iio(tmp_path)
    s = JetsonSysfsSensor(tmp_path)
    s.probe()
    s.start(100.0)
    time.sleep(0.05)
    (folder / "in_power0_input").write_text("\n")  # an empty read: a failed sample, counted
    time.sleep(0.1)
    trace = s.stop()
    assert trace.errors >= 1


# ---------------------------------------------------------------- RAPL

RANGE_UJ = 262143328850  # a common max_energy_range_uj (Intel client parts)


def test_rapl_zones_channels_and_wrap(tmp_path: Path) -> None:
    fb.rapl(
        tmp_path,
        {
            "intel-rapl:0": ("package-0", 1_000_000, RANGE_UJ),
            "intel-rapl:0:0": ("core", 400_000, RANGE_UJ),
            "intel-rapl:0:1": ("dram", 50_000, 65532610987),
        },
    )
    s = RaplSensor(tmp_path)
    p = s.probe()
    assert p.available and "package-0" in p.reason
    ch = s.channels()
    assert list(ch) == ["package-0", "package-0/core", "package-0/dram"]
    assert all(c.kind == ENERGY and c.unit == "mJ" for c in ch.values())
    assert ch["package-0"].wrap == pytest.approx(262143328.850)
    assert ch["package-0/dram"].wrap == pytest.approx(65532610.987)
    name, how = s.total()
    assert name == "package-0" and "not the machine" in how
    assert s.read() == {"package-0": 1000.0, "package-0/core": 400.0, "package-0/dram": 50.0}
    s.close()


def test_rapl_wrap_through_the_energy_maths(tmp_path: Path) -> None:
    """A counter read 1000 mJ before its range, then at 500 mJ one second later: 1500 mJ in 1 s = 1500 mW."""
    fb.rapl(tmp_path, {"intel-rapl:0": ("package-0", RANGE_UJ - 1_000_000, RANGE_UJ)})
    s = RaplSensor(tmp_path)
    from zooprof.sensors.base import Trace

    trace = Trace("rapl", s.channels(), total="package-0")
    trace.append(10.0, s.read())
    fb.write(tmp_path, "sys/class/powercap/intel-rapl:0/energy_uj", 500_000)
    trace.append(11.0, s.read())
    s.close()
    t, mw = power_series(trace, "package-0")
    assert t == [10.5] and mw == pytest.approx([1500.0])


def test_rapl_two_sockets_total_is_an_unwrapped_sum(tmp_path: Path) -> None:
    fb.rapl(
        tmp_path,
        {
            "intel-rapl:0": ("package-0", 5_000_000, RANGE_UJ),
            "intel-rapl:1": ("package-1", RANGE_UJ - 2_000_000, RANGE_UJ),
        },
    )
    s = RaplSensor(tmp_path)
    assert s.total()[0] == "total" and "package-0 + package-1" in s.total()[1]
    assert s.channels()["total"].wrap is None
    first = s.read()["total"]
    fb.write(tmp_path, "sys/class/powercap/intel-rapl:0/energy_uj", 8_000_000)  # +3000 mJ
    fb.write(tmp_path, "sys/class/powercap/intel-rapl:1/energy_uj", 1_000_000)  # wrapped: +2000 + 1000 mJ
    second = s.read()["total"]
    s.close()
    assert first == 0.0 and second == pytest.approx(6000.0)


def test_rapl_psys_is_the_total_when_present(tmp_path: Path) -> None:
    fb.rapl(tmp_path, {"intel-rapl:0": ("package-0", 1, RANGE_UJ), "intel-rapl:1": ("psys", 2, RANGE_UJ)})
    assert RaplSensor(tmp_path).total()[0] == "psys"


def test_rapl_absent_and_root_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = RaplSensor(tmp_path).probe()
    assert not p.available and p.reason == NO_RAPL
    fb.rapl(tmp_path, {"intel-rapl:0": ("package-0", 1, RANGE_UJ)})
    real = Path.read_text

    def denied(self: Path, *a: Any, **k: Any) -> str:
        if self.name == "energy_uj":
            raise PermissionError(13, "Permission denied")
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "read_text", denied)  # tests run as root, so chmod would not deny
    p = RaplSensor(tmp_path).probe()
    assert not p.available and "root only" in p.reason and "intel-rapl:0/energy_uj" in p.reason


# ---------------------------------------------------------------- host


def test_host_thermal_cpufreq_psutil(tmp_path: Path) -> None:
    fb.thermal_and_cpufreq(tmp_path)
    s = HostSensor(tmp_path)
    p = s.probe()
    assert p.available and "2 thermal zone(s)" in p.reason and "cpufreq on 4 CPU(s)" in p.reason
    ch = s.channels()
    assert ch["temp_cpu-thermal"].kind == TEMPERATURE and "temp_broken" not in ch
    v = s.read()
    assert v["temp_cpu-thermal"] == 45.5 and v["temp_gpu-thermal"] == 38.0
    assert v["cpu_freq"] == pytest.approx((1479 + 1479 + 102 + 102) / 4)  # 790.5 MHz
    assert 0.0 <= v["cpu_load"] <= 100.0 and v["mem_used"] > 0
    s.close()


def test_host_with_nothing_but_psutil(tmp_path: Path) -> None:
    p = HostSensor(tmp_path).probe()
    assert p.available and "no thermal zone" in p.reason and "no cpufreq" in p.reason
    assert set(HostSensor(tmp_path).channels()) == {"cpu_load", "mem_used"}


# ---------------------------------------------------------------- tegrastats, live


@pytest.mark.slow
def test_tegrastats_live_with_a_fake_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "root/usr/bin"
    fake_tegrastats(bin_dir, XNX_JP5)
    s = TegrastatsSensor(tmp_path / "root")
    p = s.probe()
    assert p.available and "VDD_IN" in p.reason, p.reason
    assert s.total() == ("VDD_IN", "VDD_IN")
    ch = s.channels()
    assert ch["VDD_SOC"].unit == "mW" and ch["temp_GPU"].kind == TEMPERATURE and ch["ram_used"].unit == "MB"
    s.start(50.0)  # capped at 10 Hz: --interval 100
    time.sleep(0.7)
    trace = s.stop()
    assert trace.requested_hz == 10.0
    assert trace.samples >= 3
    assert all(b > a for a, b in zip(trace.t, trace.t[1:], strict=False))
    assert set(trace.series["VDD_IN"]) == {2763.0} and set(trace.series["VDD_SOC"]) == {650.0}
    assert set(trace.series["temp_GPU"]) == {45.5} and set(trace.series["ram_used"]) == {3168.0}
    assert set(trace.series["gpu_load"]) == {0.0}
    assert (bin_dir / "args.txt").read_text().splitlines()[-1] == "--interval 100"
    assert s._proc is None
    # stop() ended the process: a second start/stop works and gives a fresh trace
    s.start(5.0)
    time.sleep(0.5)
    again = s.stop()
    assert again.requested_hz == 5.0 and (bin_dir / "args.txt").read_text().splitlines()[-1] == "--interval 200"
    assert again.samples >= 1 and again.t[0] > trace.t[-1]


@pytest.mark.slow
def test_tegrastats_live_agx_orin_sums_the_rails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "usr/bin"
    fake_tegrastats(bin_dir, AGX_ORIN)
    s = TegrastatsSensor(tmp_path)
    assert s.probe().available
    assert s.total() == ("total", SUMMED)
    s.start(10.0)
    time.sleep(0.4)
    trace = s.stop()
    assert trace.total == "total" and trace.total_source == SUMMED
    assert set(trace.series["total"]) == {4940.0 + 988.0 + 4442.0}


def test_tegrastats_not_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    p = TegrastatsSensor(tmp_path).probe()
    assert not p.available and "tegrastats not found" in p.reason


def test_a_fake_root_is_the_whole_machine_path_is_not_searched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_tegrastats(tmp_path / "bin", XNX_JP5)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # a tegrastats on PATH, as on a real Jetson
    assert not TegrastatsSensor(tmp_path / "root").probe().available


def test_tegrastats_found_under_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    fake_tegrastats(tmp_path / "usr/bin", XNX_JP5)
    p = TegrastatsSensor(tmp_path).probe()
    assert p.available and str(tmp_path / "usr/bin/tegrastats") in p.reason


# ---------------------------------------------------------------- jtop


def test_jtop_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jtop", None)  # import jtop -> ImportError
    p = JtopSensor(tmp_path).probe()
    assert not p.available and p.reason == "jetson-stats not installed (pip install zooprof[jetson])"


class FakeJtop:
    """The parts of jtop.jtop zooprof uses (shapes from jetson-stats: mW, kB, °C)."""

    service_active = True
    power: dict[str, Any] = {}

    def __init__(self, interval: float = 1.0) -> None:
        self.observers: set[Any] = set()
        self.closed = False
        self.temperature = {"cpu": {"temp": 50.0, "online": True}, "gpu": {"temp": -256.0, "online": False}}
        self.memory = {"RAM": {"used": 3452 * 1024, "tot": 7620 * 1024}}
        self.gpu = {"gpu": {"status": {"load": 12.5}}}

    def start(self) -> None:
        if not self.service_active:
            raise RuntimeError("The jtop.service is not active. Please run:\nsudo systemctl restart jtop.service")

    def attach(self, fn: Any) -> None:
        self.observers.add(fn)

    def detach(self, fn: Any) -> None:
        self.observers.discard(fn)

    def emit(self) -> None:
        for fn in list(self.observers):
            fn(self)

    def close(self) -> None:
        self.closed = True


def fake_jtop_module(monkeypatch: pytest.MonkeyPatch, power: dict[str, Any], active: bool = True) -> type[FakeJtop]:
    cls = type("jtop", (FakeJtop,), {"service_active": active, "power": power})
    module = types.ModuleType("jtop")
    module.jtop = cls  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jtop", module)
    return cls


ORIN_NANO_POWER = {
    "rail": {
        "VDD_CPU_GPU_CV": {"volt": 5000, "curr": 103, "power": 518, "avg": 518},
        "VDD_SOC": {"volt": 5000, "curr": 295, "power": 1475, "avg": 1475},
    },
    "tot": {"volt": 5000, "curr": 964, "power": 4824, "avg": 4824, "name": "VDD_IN"},
}


def test_jtop_service_not_active(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_jtop_module(monkeypatch, ORIN_NANO_POWER, active=False)
    p = JtopSensor(tmp_path).probe()
    assert not p.available and p.reason.startswith(NOT_ACTIVE) and "no /run/jtop.sock" in p.reason
    fb.write(tmp_path, "run/jtop.sock", "")  # a stale socket: the client's own error says it
    p = JtopSensor(tmp_path).probe()
    assert not p.available and p.reason == NOT_ACTIVE


def test_jtop_streams_samples_with_the_input_rail_as_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_jtop_module(monkeypatch, ORIN_NANO_POWER)
    fb.write(tmp_path, "run/jtop.sock", "")
    s = JtopSensor(tmp_path)
    p = s.probe()
    assert p.available and "total VDD_IN" in p.reason
    assert s.total() == ("VDD_IN", "VDD_IN")
    ticks = iter([1.0, 2.0, 3.0])
    s.start(50.0, clock=lambda: next(ticks))
    client = s._jetson
    for _ in range(3):
        client.emit()
    trace = s.stop()
    client.emit()  # after stop: not recorded
    assert trace.requested_hz == 1.0  # jtop's own rate
    assert trace.t == [1.0, 2.0, 3.0]
    assert trace.series["VDD_IN"] == [4824.0] * 3 and trace.series["VDD_SOC"] == [1475.0] * 3
    assert trace.series["ram_used"] == [3452.0] * 3 and trace.series["gpu_load"] == [12.5] * 3
    assert trace.series["temp_cpu"] == [50.0] * 3 and trace.series["temp_gpu"] == [None] * 3  # offline
    s.close()
    assert client.closed


def test_jtop_agx_orin_total_is_summed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    power = {
        "rail": {"VDD_GPU_SOC": {"power": 4940}, "VDD_CPU_CV": {"power": 988}, "VIN_SYS_5V0": {"power": 4442}},
        "tot": {"power": 10370, "avg": 10370},
    }
    fake_jtop_module(monkeypatch, power)
    fb.write(tmp_path, "run/jtop.sock", "")
    s = JtopSensor(tmp_path)
    assert s.probe().available and s.total() == ("total", SUMMED)
    s.start(1.0)
    s._jetson.emit()
    assert s.stop().series["total"] == [10370.0]


# ---------------------------------------------------------------- NVML


class NVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        return {3: "Not Supported", 12: "NVML Shared Library Not Found"}.get(self.value, f"error {self.value}")


def fake_pynvml(
    monkeypatch: pytest.MonkeyPatch, *, init_error: int | None = None, energy: bool = True, count: int = 1
) -> types.SimpleNamespace:
    state = types.SimpleNamespace(energy_mj=1_000_000, power_mw=71_234, shutdown=False, fail=False)

    def init() -> None:
        if init_error is not None:
            raise NVMLError(init_error)

    def check() -> None:
        if state.fail:
            raise NVMLError(15)

    def total_energy(h: object) -> int:
        if not energy:
            raise NVMLError(3)
        check()
        return state.energy_mj

    def power(h: object) -> int:
        check()
        return state.power_mw

    m = types.ModuleType("pynvml")
    m.__dict__.update(
        NVMLError=NVMLError,
        NVML_ERROR_LIBRARY_NOT_FOUND=12,
        NVML_ERROR_DRIVER_NOT_LOADED=9,
        NVML_ERROR_NOT_SUPPORTED=3,
        NVML_CLOCK_SM=1,
        NVML_TEMPERATURE_GPU=0,
        nvmlInit=init,
        nvmlDeviceGetCount=lambda: count,
        nvmlDeviceGetHandleByIndex=lambda i: ("gpu", i),
        nvmlDeviceGetName=lambda h: "NVIDIA H100 80GB HBM3",
        nvmlDeviceGetPowerUsage=power,
        nvmlDeviceGetTotalEnergyConsumption=total_energy,
        nvmlDeviceGetMemoryInfo=lambda h: types.SimpleNamespace(used=3 * 2**30, total=80 * 2**30),
        nvmlDeviceGetUtilizationRates=lambda h: types.SimpleNamespace(gpu=87, memory=40),
        nvmlDeviceGetClockInfo=lambda h, kind: 1980 if kind == 1 else 0,
        nvmlDeviceGetTemperature=lambda h, kind: 54,
        nvmlShutdown=lambda: setattr(state, "shutdown", True),
    )
    monkeypatch.setitem(sys.modules, "pynvml", m)
    return state


def test_nvml_energy_counter_is_the_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = fake_pynvml(monkeypatch)
    s = NvmlSensor(tmp_path)
    p = s.probe()
    assert p.available and "NVIDIA H100 80GB HBM3" in p.reason
    assert s.total()[0] == "gpu_energy" and "energy counter" in s.total()[1]
    ch = s.channels()
    assert ch["gpu_energy"].kind == ENERGY and ch["gpu_energy"].unit == "mJ" and ch["gpu_power"].kind == POWER
    assert s.read() == {
        "gpu_power": 71234.0,
        "gpu_energy": 1_000_000.0,
        "gpu_memory_used": 3072.0,
        "gpu_load": 87.0,
        "gpu_sm_clock": 1980.0,
        "temp_gpu": 54.0,
    }
    state.fail = True  # power and energy fail mid-run: None for those, not 0
    v = s.read()
    assert v["gpu_power"] is None and v["gpu_energy"] is None and v["temp_gpu"] == 54.0
    s.close()
    assert state.shutdown


def test_nvml_without_energy_counter_uses_power(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pynvml(monkeypatch, energy=False)
    s = NvmlSensor(tmp_path)
    assert s.probe().available
    assert "gpu_energy" not in s.channels()  # not supported: left out, not zero
    assert s.total()[0] == "gpu_power"


@pytest.mark.slow
def test_nvml_sampling_with_the_fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = fake_pynvml(monkeypatch)
    s = NvmlSensor(tmp_path)
    assert s.probe().available
    s.start(100.0)
    time.sleep(0.1)
    state.energy_mj += 7_000
    time.sleep(0.1)
    trace = s.stop()
    assert trace.total == "gpu_energy" and trace.errors == 0
    e = [v for v in trace.series["gpu_energy"] if v is not None]
    assert e[0] == 1_000_000.0 and e[-1] == 1_007_000.0


def test_nvml_missing_library_and_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_pynvml(monkeypatch, init_error=12)
    p = NvmlSensor(tmp_path).probe()
    assert not p.available and p.reason == "NVML: libnvidia-ml.so not found (no NVIDIA driver)"
    fake_pynvml(monkeypatch, count=0)
    assert NvmlSensor(tmp_path).probe().reason == "NVML: no NVIDIA GPU"
    monkeypatch.setitem(sys.modules, "pynvml", None)
    p = NvmlSensor(tmp_path).probe()
    assert not p.available and p.reason == "nvidia-ml-py not installed (pip install zooprof[nvidia])"


# ---------------------------------------------------------------- registry and board


def test_every_registered_source_probes_without_raising(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "pynvml", None)
    for name in (*POWER_SOURCES, "host"):
        p = create(name, tmp_path).probe()
        assert p.name == name and p.reason
        if name != "host":
            assert not p.available


def test_l4t_and_jetpack() -> None:
    assert parse_l4t("# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64") == "32.7.1"
    assert jetpack_for("32.7.1") == "4.6.1"
    assert parse_l4t("# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref") == "35.4.1"
    assert jetpack_for("35.4.1") == "5.1.2" and jetpack_for("36.4.3") == "6.2"
    assert parse_l4t("# R36 (release), REVISION: 4, GCID: 1") == "36.4.0" and jetpack_for("36.4.0") == "6.1"
    unknown = jetpack_for("36.9.9")
    assert unknown is not None and unknown.startswith("n/a (") and "JetPack 6" in unknown
    assert parse_l4t("Ubuntu 22.04") is None and jetpack_for(None) is None


def test_nvpmodel_and_jetson_clocks_parsers() -> None:
    assert parse_nvpmodel("NVPM WARN: fan mode is not set!\nNV Power Mode: MAXN\n0\n") == "MAXN (mode 0)"
    assert parse_nvpmodel("NV Power Mode: 15W\n1\n") == "15W (mode 1)"
    assert parse_nvpmodel("nothing here") is None
    on = (
        "cpu0: Online=1 Governor=schedutil MinFreq=1479000 MaxFreq=1479000 CurrentFreq=1479000\n"
        "cpu3: Online=0 Governor=schedutil MinFreq=102000 MaxFreq=1479000 CurrentFreq=102000\n"
        "GPU MinFreq=921600000 MaxFreq=921600000 CurrentFreq=921600000\n"
        "EMC MinFreq=204000000 MaxFreq=1600000000 CurrentFreq=1600000000 FreqOverride=1\n"
    )
    assert parse_jetson_clocks(on) == "on"  # offline CPUs and EMC do not count
    assert parse_jetson_clocks(on.replace("GPU MinFreq=921600000", "GPU MinFreq=76800000")) == "off"
    assert parse_jetson_clocks("NV Power Mode: MAXN") is None


def test_board_record_of_a_fake_orin_nano(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    fb.orin_nano_board(tmp_path)
    b = machine.board(tmp_path)
    assert b["model"] == "NVIDIA Jetson Orin Nano Developer Kit" and b["jetson"] is True
    assert b["l4t_release"] == "36.4.3" and b["jetpack"] == "6.2"
    assert b["nvpmodel"] == "15W (mode 0)"
    assert b["jetson_clocks"] == "on (jetson_clocks --show)"
    assert b["gpu"] == "integrated GPU 17000000.gpu (max 1020 MHz)"
    assert b["cpu_model"] == "ARMv8 Processor rev 1 (v8l)" and b["governors"] == {"schedutil": 6}
    assert b["memory_bytes"] == 7802812 * 1024


def test_board_jetson_clocks_needs_root_so_it_is_inferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    fb.orin_nano_board(tmp_path, clocks_root_only=True)
    state = machine.board(tmp_path)["jetson_clocks"]
    assert state.startswith("on (inferred") and "needs root" in state


def test_board_off_a_jetson(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    fb.write(tmp_path, "proc/driver/nvidia/gpus/0000:01:00.0/information", "Model: \t\t NVIDIA H100 80GB HBM3\nIRQ: 1")
    b = machine.board(tmp_path)
    assert b["model"] is None and b["jetson"] is False and b["l4t_release"] is None and b["jetpack"] is None
    assert b["nvpmodel"] == "n/a (nvpmodel not found)" and b["jetson_clocks"] == "n/a (jetson_clocks not found)"
    assert b["gpu"] == "NVIDIA H100 80GB HBM3"
    empty = machine.board(tmp_path / "empty")
    assert empty["gpu"].startswith("none found") and empty["governors"] == {} and empty["memory_bytes"] is None


def test_environment_carries_the_board_record() -> None:
    env = machine.environment()
    assert {"model", "l4t_release", "jetpack", "nvpmodel", "jetson_clocks", "gpu"} <= set(env["board"])
