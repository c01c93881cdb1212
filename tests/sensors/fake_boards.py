"""Fake sysfs/proc trees of real boards, written under a tmp folder (the sensors' `root`).

Layouts from shared/REFERENCES.md (Jetson section) and the kernel drivers: JetPack 4 iio
(`ina3221x`, power files in mW), JetPack 5/6 hwmon (`ina3221`, bus mV and mA; channel 7 is the
sum of the shunt voltages), powercap RAPL, thermal zones, cpufreq. Values are chosen so the
expected figures can be checked by hand (see the tests).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def write(root: Path, rel: str, text: str | int | float) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{text}\n")
    return path


def nano_iio(root: Path) -> Path:
    """Jetson Nano, JetPack 4: three rails with power files (mW). The voltage x current files hold
    a different product on purpose, so a test can tell which files were read."""
    d = "sys/bus/i2c/drivers/ina3221x/6-0040/iio:device0"
    for i, (name, mw) in enumerate([("POM_5V_IN", 2746), ("POM_5V_GPU", 159), ("POM_5V_CPU", 796)]):
        write(root, f"{d}/rail_name_{i}", name)
        write(root, f"{d}/in_power{i}_input", mw)
        write(root, f"{d}/in_voltage{i}_input", 5000)
        write(root, f"{d}/in_current{i}_input", 1)
    return root / d


def hwmon(root: Path, device: str, index: int, rails: list[tuple[str, int, int]], with_sum: bool = True) -> Path:
    """A JetPack 5/6 INA3221 hwmon folder: (label, bus mV, mA) per input 1..3; input 7 is the sum
    of the shunt voltages, with its own label, as the mainline driver exposes it."""
    d = f"sys/bus/i2c/drivers/ina3221/{device}/hwmon/hwmon{index}"
    write(root, f"{d}/name", "ina3221")
    for i, (label, mv, ma) in enumerate(rails, start=1):
        write(root, f"{d}/in{i}_label", label)
        write(root, f"{d}/in{i}_input", mv)
        write(root, f"{d}/curr{i}_input", ma)
        write(root, f"{d}/in{i + 3}_input", 40)  # shunt voltage (mV): not a rail
    if with_sum:
        write(root, f"{d}/in7_label", "sum of shunt voltages")
        write(root, f"{d}/in7_input", 120)
        write(root, f"{d}/curr4_input", 999)
    return root / d


def xavier_nx(root: Path) -> Path:
    """Xavier NX on JetPack 5: hwmon at 7-0040."""
    return hwmon(root, "7-0040", 1, [("VDD_IN", 5072, 800), ("VDD_CPU_GPU_CV", 5064, 146), ("VDD_SOC", 5064, 267)])


def orin_nx(root: Path) -> Path:
    """Orin NX on JetPack 6: hwmon at 1-0040, hwmon index 3 (it varies between boots)."""
    return hwmon(root, "1-0040", 3, [("VDD_IN", 19024, 656), ("VDD_CPU_GPU_CV", 19024, 245), ("VDD_SOC", 19024, 148)])


def agx_orin(root: Path) -> None:
    """AGX Orin: no input rail; two chips, the second with unconnected (NC) inputs."""
    hwmon(root, "1-0040", 4, [("VDD_GPU_SOC", 19168, 258), ("VDD_CPU_CV", 19168, 52), ("VIN_SYS_5V0", 4984, 892)])
    hwmon(root, "1-0041", 5, [("NC", 0, 0), ("VDDQ_VDD2_1V8AO", 4984, 100), ("NC", 0, 0)])


def rapl(root: Path, zones: dict[str, tuple[str, int, int]]) -> None:
    """powercap zones: folder name -> (name, energy_uj, max_energy_range_uj)."""
    for folder, (name, energy, top) in zones.items():
        d = f"sys/class/powercap/{folder}"
        write(root, f"{d}/name", name)
        write(root, f"{d}/energy_uj", energy)
        write(root, f"{d}/max_energy_range_uj", top)
    write(root, "sys/class/powercap/intel-rapl/enabled", 1)  # the control type folder: not a zone


def thermal_and_cpufreq(root: Path) -> None:
    write(root, "sys/class/thermal/thermal_zone0/type", "cpu-thermal")
    write(root, "sys/class/thermal/thermal_zone0/temp", 45500)
    write(root, "sys/class/thermal/thermal_zone1/type", "gpu-thermal")
    write(root, "sys/class/thermal/thermal_zone1/temp", 38000)
    write(root, "sys/class/thermal/thermal_zone2/type", "broken")
    write(root, "sys/class/thermal/thermal_zone2/temp", "")  # a zone whose read fails: left out
    for cpu, khz in enumerate([1479000, 1479000, 102000, 102000]):
        write(root, f"sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_cur_freq", khz)
        write(root, f"sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_governor", "schedutil")


def script(path: Path, body: str) -> Path:
    """An executable Python script (for fake tegrastats, nvpmodel, jetson_clocks)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n{body}")
    os.chmod(path, 0o755)
    return path


def orin_nano_board(root: Path, clocks_root_only: bool = False) -> None:
    """Identity files and board tools of an Orin Nano on JetPack 6.2 (L4T R36.4.3)."""
    write(root, "proc/device-tree/model", "NVIDIA Jetson Orin Nano Developer Kit\x00")
    write(
        root,
        "etc/nv_tegra_release",
        "# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, "
        "EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025",
    )
    write(root, "sys/class/devfreq/17000000.gpu/max_freq", 1020000000)
    write(root, "proc/cpuinfo", "processor\t: 0\nmodel name\t: ARMv8 Processor rev 1 (v8l)\n")
    write(root, "proc/meminfo", "MemTotal:        7802812 kB\n")
    for cpu in range(6):
        write(root, f"sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_governor", "schedutil")
        write(root, f"sys/devices/system/cpu/cpu{cpu}/cpufreq/scaling_min_freq", 1510400)
        write(root, f"sys/devices/system/cpu/cpu{cpu}/cpufreq/cpuinfo_max_freq", 1510400)
    script(root / "usr/bin/nvpmodel", 'print("NV Power Mode: 15W")\nprint("0")\n')
    if clocks_root_only:
        script(
            root / "usr/bin/jetson_clocks",
            'import sys\nprint("Error: jetson_clocks must be run as root", file=sys.stderr)\nsys.exit(1)\n',
        )
    else:
        script(
            root / "usr/bin/jetson_clocks",
            "print('''SOC family:tegra234  Machine:NVIDIA Jetson Orin Nano\n"
            "Online CPUs: 0-5\n"
            "cpu0: Online=1 Governor=schedutil MinFreq=1510400 MaxFreq=1510400 CurrentFreq=1510400 IdleStates: C1=0\n"
            "cpu1: Online=1 Governor=schedutil MinFreq=1510400 MaxFreq=1510400 CurrentFreq=1510400 IdleStates: C1=0\n"
            "GPU MinFreq=1020000000 MaxFreq=1020000000 CurrentFreq=1020000000\n"
            "EMC MinFreq=204000000 MaxFreq=3199000000 CurrentFreq=3199000000 FreqOverride=1\n"
            "NV Power Mode: 15W''')\n",
        )


def fake_tegrastats(folder: Path, line: str) -> Path:
    """A `tegrastats` that records its arguments and prints `line` every --interval ms."""
    return script(
        folder / "tegrastats",
        f"""
import sys, time
args = sys.argv[1:]
open({str(folder / "args.txt")!r}, 'a').write(' '.join(args) + '\\n')
interval = int(args[args.index('--interval') + 1]) / 1000 if '--interval' in args else 1.0
print('garbage line that is not tegrastats', flush=True)
while True:
    time.sleep(interval)
    print({line!r}, flush=True)
""",
    )
