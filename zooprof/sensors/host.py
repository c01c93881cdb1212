"""The host's state beside any power sensor: thermal zones (°C), mean CPU frequency (MHz), CPU load
(%) and memory used by the whole system (MB = 2^20 bytes, as tegrastats prints it).

Thermal zones: /sys/class/thermal/thermal_zone*/{type,temp} (temp in m°C); a zone whose read
fails is left out (some zones error when their sensor is off). CPU frequency: the mean of
/sys/devices/system/cpu/cpu*/cpufreq/scaling_cur_freq (kHz). CPU % and memory come from psutil
(the machine's, not the tree's: psutil is not rooted).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from zooprof.sensors.base import CLOCK, LOAD, MEMORY, TEMPERATURE, Channel, PollingSensor, Probe, close_fds

THERMAL = "sys/class/thermal"
CPUFREQ = "sys/devices/system/cpu"
MB = 2**20


def _nat_key(path: Path) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(path))]


def thermal_zones(root: Path) -> dict[str, Path]:
    """`temp_<type>` -> its temp file, for every zone with a readable number."""
    out: dict[str, Path] = {}
    for zone in sorted((Path(root) / THERMAL).glob("thermal_zone*"), key=_nat_key):
        try:
            kind = (zone / "type").read_text().strip() or zone.name
            float((zone / "temp").read_text().strip())
        except (OSError, ValueError):
            continue
        name = f"temp_{kind}"
        if name in out:
            name = f"{name}@{zone.name}"
        out[name] = zone / "temp"
    return out


def cpufreq_files(root: Path) -> list[Path]:
    files = sorted((Path(root) / CPUFREQ).glob("cpu[0-9]*/cpufreq/scaling_cur_freq"), key=_nat_key)
    return [f for f in files if os.access(f, os.R_OK)]


class HostSensor(PollingSensor):
    name = "host"

    def __init__(self, root: Path = Path("/")) -> None:
        self.root = Path(root)
        self._zones: dict[str, Path] | None = None
        self._freqs: list[Path] = []
        self._psutil: Any = None
        self._fds: list[tuple[str, int]] = []
        self._freq_fds: list[int] = []
        self._primed = False

    def _discover(self) -> None:
        if self._zones is not None:
            return
        self._zones = thermal_zones(self.root)
        self._freqs = cpufreq_files(self.root)
        try:
            import psutil
        except ImportError:
            self._psutil = None
        else:
            self._psutil = psutil

    def probe(self) -> Probe:
        self._discover()
        found = []
        found.append(
            f"{len(self._zones or {})} thermal zone(s)"
            if self._zones
            else f"no thermal zone (no /{THERMAL}/thermal_zone*)"
        )
        found.append(
            f"cpufreq on {len(self._freqs)} CPU(s)"
            if self._freqs
            else "no cpufreq (no scaling_cur_freq: a VM or container?)"
        )
        found.append("psutil CPU % and memory" if self._psutil else "psutil not installed")
        ok = bool(self._zones or self._freqs or self._psutil)
        return Probe(self.name, ok, "; ".join(found), tuple(self.channels()))

    def channels(self) -> dict[str, Channel]:
        self._discover()
        out = {name: Channel(name, "C", TEMPERATURE) for name in self._zones or {}}
        if self._freqs:
            out["cpu_freq"] = Channel("cpu_freq", "MHz", CLOCK)
        if self._psutil:
            out["cpu_load"] = Channel("cpu_load", "%", LOAD)
            out["mem_used"] = Channel("mem_used", "MB", MEMORY)
        return out

    def open_files(self) -> None:
        self._discover()
        self.close_files()
        for name, path in (self._zones or {}).items():
            try:
                self._fds.append((name, os.open(path, os.O_RDONLY)))
            except OSError:
                continue
        for path in self._freqs:
            try:
                self._freq_fds.append(os.open(path, os.O_RDONLY))
            except OSError:
                continue
        if self._psutil:
            self._psutil.cpu_percent(None)  # start the interval the first reading is measured over
        self._primed = True

    def close_files(self) -> None:
        close_fds([fd for _, fd in self._fds] + self._freq_fds)
        self._fds, self._freq_fds = [], []
        self._primed = False

    def read(self) -> dict[str, float | None]:
        if not self._primed:
            self.open_files()
        out: dict[str, float | None] = {}
        for name, fd in self._fds:
            try:
                out[name] = float(os.pread(fd, 32, 0)) / 1000.0
            except (OSError, ValueError):
                out[name] = None  # a zone can fail while its sensor sleeps: that channel only
        freqs = []
        for fd in self._freq_fds:
            try:
                freqs.append(float(os.pread(fd, 32, 0)) / 1000.0)
            except (OSError, ValueError):
                continue
        if self._freqs:
            out["cpu_freq"] = sum(freqs) / len(freqs) if freqs else None
        if self._psutil:
            out["cpu_load"] = float(self._psutil.cpu_percent(None))
            vm = self._psutil.virtual_memory()
            out["mem_used"] = (vm.total - vm.available) / MB
        return out
